import type net from 'node:net';
import type tls from 'node:tls';
import { encodeCommand, type Arg } from '../codec/resp/encoder.js';
import { openSocket } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { ByteSource } from '../util/byte-source.js';
import { ExitCode, FormatError, IoError, ToolError } from '../util/errors.js';

/**
 * The replica side of the replication handshake (replication.c `syncWithMaster`), as explicit
 * steps: connect, PING, AUTH, REPLCONF listening-port, REPLCONF capa, then PSYNC only once every
 * earlier reply has been read (a master refuses PSYNC while it still has output pending for us).
 */

export interface LinkOptions {
  /** Port announced with REPLCONF listening-port (shown by the master's INFO replication). */
  announcePort: number;
  /** Ask for one RDB and a closed link (REPLCONF rdb-only 1), as `redis-cli --rdb` does. */
  rdbOnly?: boolean;
  connectTimeoutMs?: number;
  /** No byte from the master for this long during the handshake or a transfer → link dead. */
  timeoutMs: number;
  tls?: tls.ConnectionOptions;
}

/** A live connection to the master: a byte source over the socket and a writer. */
export class MasterLink {
  /** Wall-clock ms of the last byte received; the cron compares it with the timeout. */
  lastIoMs = Date.now();
  bytesIn = 0;
  readonly src: ByteSource;
  private timer: NodeJS.Timeout | null = null;
  private deadReason: string | null = null;

  constructor(
    readonly socket: net.Socket,
    readonly endpoint: RedisEndpoint,
    private readonly timeoutMs: number,
  ) {
    const self = this;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of socket as AsyncIterable<Buffer>) {
        self.lastIoMs = Date.now();
        self.bytesIn += chunk.length;
        yield chunk;
      }
    }
    this.src = ByteSource.fromStream(counted(), `master ${endpoint.display}`);
    // Silence watchdog: destroying the socket ends the byte source, which unblocks any reader.
    this.timer = setInterval(() => {
      if (Date.now() - this.lastIoMs > this.timeoutMs) this.kill(`no data from master for ${Math.round(this.timeoutMs / 1000)} s (timeout)`);
    }, Math.min(1000, Math.max(100, this.timeoutMs / 4)));
    this.timer.unref();
  }

  /** Why the link was killed by us (timeout, shutdown), if it was. */
  get killedBecause(): string | null {
    return this.deadReason;
  }

  write(args: readonly Arg[]): void {
    if (!this.socket.destroyed) this.socket.write(encodeCommand(args));
  }

  kill(reason: string): void {
    this.deadReason ??= reason;
    this.close();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.socket.destroy();
  }

  /** Error for a stream that ended where more was expected. */
  endedError(what: string): IoError {
    return new IoError(`${this.endpoint.display}: connection lost while ${what}${this.deadReason ? ` (${this.deadReason})` : ''}`);
  }

  /** Reads one CRLF-terminated reply line (without CRLF). Bare "\n" keepalives give "". */
  async readLine(what: string): Promise<string> {
    const src = this.src;
    for (;;) {
      const win = src.window();
      const lf = win.indexOf(10);
      if (lf >= 0) {
        const end = lf > 0 && win[lf - 1] === 13 ? lf - 1 : lf;
        const line = win.toString('latin1', 0, end);
        src.advance(lf + 1);
        return line;
      }
      if (win.length > 64 * 1024) throw new FormatError(src.name, src.offset, `a reply line while ${what}`);
      if (!(await src.more())) throw this.endedError(what);
    }
  }
}

/** Reply to PSYNC. */
export type PsyncReply =
  | { kind: 'full'; replid: string; offset: number }
  | { kind: 'continue'; replid: string | null };

/** A master refusing to sync for now (-LOADING, -NOMASTERLINK): retry later. */
export class RetryLaterError extends IoError {}

const AUTH_CODES = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM']);

function replyError(ep: RedisEndpoint, step: string, line: string): ToolError {
  const msg = line.slice(1);
  const code = msg.split(' ')[0] ?? '';
  if (code === 'LOADING' || code === 'NOMASTERLINK' || code === 'MASTERDOWN' || code === 'BUSY') {
    return new RetryLaterError(`${ep.display}: ${step}: master not ready: ${msg}`);
  }
  if (AUTH_CODES.has(code) || /operation not permitted/i.test(msg)) {
    const hint =
      code === 'NOPERM'
        ? ' (the ACL user needs at least: +psync +replconf +ping)'
        : code === 'NOAUTH'
          ? ' (give a password with --password-file, REDISCLI_AUTH or the URL)'
          : '';
    return new ToolError(`${ep.display}: ${step}: ${msg}${hint}`, ExitCode.CRYPTO);
  }
  return new IoError(`${ep.display}: ${step}: ${msg}`);
}

/** Connects and runs the handshake; returns the open link and the PSYNC reply. */
export async function handshake(
  ep: RedisEndpoint,
  psync: { replid: string; offset: number } | null,
  opts: LinkOptions,
): Promise<{ link: MasterLink; reply: PsyncReply }> {
  const socket = await openSocket(ep, { connectTimeoutMs: opts.connectTimeoutMs ?? 10_000, tls: opts.tls });
  socket.setKeepAlive(true, 10_000);
  const link = new MasterLink(socket, ep, opts.timeoutMs);
  try {
    link.write(['PING']);
    const pong = await link.readLine('waiting for PONG');
    // NOAUTH / NOPERM are fine here: AUTH follows, or the ACL user may not run PING.
    if (pong.startsWith('-') && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(pong)) throw replyError(ep, 'PING', pong);

    // AUTH and the REPLCONFs go back to back; their replies are then read in order.
    const steps: Array<{ name: string; args: Arg[]; fatal: boolean }> = [];
    if (ep.password !== undefined) {
      steps.push({ name: 'AUTH', args: ep.username ? ['AUTH', ep.username, ep.password] : ['AUTH', ep.password], fatal: true });
    }
    steps.push({ name: 'REPLCONF listening-port', args: ['REPLCONF', 'listening-port', opts.announcePort], fatal: false });
    steps.push({ name: 'REPLCONF capa', args: ['REPLCONF', 'capa', 'eof', 'capa', 'psync2'], fatal: false });
    if (opts.rdbOnly) steps.push({ name: 'REPLCONF rdb-only', args: ['REPLCONF', 'rdb-only', '1'], fatal: false });
    for (const s of steps) link.write(s.args);
    for (const s of steps) {
      const line = await link.readLine(`waiting for the ${s.name} reply`);
      if (line.startsWith('-')) {
        // Without an AUTH step, the first REPLCONF tells us whether the master wants a password.
        if (s.fatal || /^-(NOAUTH|NOPERM|WRONGPASS)/.test(line)) throw replyError(ep, s.name, line);
      }
    }

    link.write(psync ? ['PSYNC', psync.replid, psync.offset + 1] : ['PSYNC', '?', '-1']);
    let line = '';
    while (line === '') line = await link.readLine('waiting for the PSYNC reply');
    return { link, reply: parsePsyncReply(ep, line) };
  } catch (e) {
    link.close();
    throw e;
  }
}

function parsePsyncReply(ep: RedisEndpoint, line: string): PsyncReply {
  if (line.startsWith('+FULLRESYNC')) {
    const m = /^\+FULLRESYNC ([0-9a-zA-Z]{40}) (\d+)$/.exec(line);
    if (!m) throw new IoError(`${ep.display}: malformed PSYNC reply: ${line.slice(0, 80)}`);
    return { kind: 'full', replid: m[1]!, offset: Number(m[2]) };
  }
  if (line.startsWith('+CONTINUE')) {
    const id = line.slice('+CONTINUE'.length).trim();
    return { kind: 'continue', replid: id.length === 40 ? id : null };
  }
  if (line.startsWith('-')) throw replyError(ep, 'PSYNC', line);
  throw new IoError(`${ep.display}: unexpected PSYNC reply: ${line.slice(0, 80)}`);
}
