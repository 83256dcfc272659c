import net from 'node:net';
import tls from 'node:tls';
import { encodeCommand, type Arg } from '../codec/resp/encoder.js';
import { RespReader } from '../codec/resp/parser.js';
import { RespError, type RespValue } from '../codec/resp/types.js';
import { ByteSource } from '../util/byte-source.js';
import { CryptoError, ExitCode, IoError, ToolError } from '../util/errors.js';
import type { RedisEndpoint } from './redis-url.js';

export interface ConnectOptions {
  connectTimeoutMs?: number;
  /** TLS settings for rediss:// (CA, client cert/key); ignored for plain TCP. */
  tls?: tls.ConnectionOptions;
}

/** Replies that mean a missing or wrong secret, or an ACL refusal: exit 4 like a wrong passphrase. */
const AUTH_REPLY = /^(NOAUTH|WRONGPASS|NOPERM)\b/;

/** A Redis error reply surfaced as an exception by `call`. */
export class RedisReplyError extends ToolError {
  constructor(
    readonly reply: RespError,
    command: string,
  ) {
    super(`${command}: ${reply.message}`, AUTH_REPLY.test(reply.message) ? ExitCode.CRYPTO : ExitCode.DATA);
  }
}

/**
 * A small pipelining RESP2 client over our own codec: replies are matched to requests in order.
 * Used for control commands (INFO, BGSAVE, DEBUG DIGEST, RESTORE pipelines) and by the tests.
 */
export class RedisClient {
  private readonly pending: Array<{ resolve: (v: RespValue) => void; reject: (e: Error) => void }> = [];
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    readonly socket: net.Socket,
    readonly endpoint: RedisEndpoint,
  ) {
    void this.readLoop();
  }

  static async connect(ep: RedisEndpoint, opts: ConnectOptions = {}): Promise<RedisClient> {
    const socket = await openSocket(ep, opts);
    const client = new RedisClient(socket, ep);
    if (ep.password !== undefined) {
      const args: Arg[] = ep.username ? ['AUTH', ep.username, ep.password] : ['AUTH', ep.password];
      await client.call(...args).catch((e: unknown) => {
        client.close();
        // A refused AUTH is a wrong secret (exit 4, as for replicate and backup); a dropped link is I/O.
        if (e instanceof RedisReplyError) throw new CryptoError(`${ep.display}: authentication failed: ${e.reply.message}`);
        throw e instanceof ToolError ? e : new IoError(`${ep.display}: authentication failed: ${String(e)}`);
      });
    }
    if (ep.db) await client.call('SELECT', ep.db);
    return client;
  }

  private async readLoop(): Promise<void> {
    const reader = new RespReader(ByteSource.fromStream(this.socket, this.endpoint.display));
    try {
      for (;;) {
        const frame = await reader.next();
        if (!frame) break;
        const p = this.pending.shift();
        if (p) p.resolve(frame.value);
      }
      this.fail(new IoError(`${this.endpoint.display}: connection closed`));
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  /** Sends a command; resolves with the raw reply (error replies resolve as RespError). */
  send(...args: Arg[]): Promise<RespValue> {
    return this.sendEncoded(encodeCommand(args));
  }

  /** Sends one command already encoded as RESP (hot paths that build frames in one buffer). */
  sendEncoded(frame: Buffer): Promise<RespValue> {
    if (this.closed) return Promise.reject(this.failure ?? new IoError(`${this.endpoint.display}: connection closed`));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  /** Sends a command and throws on an error reply. */
  async call(...args: Arg[]): Promise<RespValue> {
    const v = await this.send(...args);
    if (v instanceof RespError) throw new RedisReplyError(v, String(args[0]).toUpperCase());
    return v;
  }

  /** A reply as text (bulk or simple string). */
  async text(...args: Arg[]): Promise<string> {
    const v = await this.call(...args);
    return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }

  /** `INFO section` parsed into key/value pairs. */
  async info(section?: string): Promise<Record<string, string>> {
    const text = await this.text(...(section ? ['INFO', section] : ['INFO']));
    const out: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  /** Requests still waiting for a reply (for windowed pipelines). */
  get inFlight(): number {
    return this.pending.length;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** Opens a TCP or TLS socket to the endpoint, with a connect timeout. */
export function openSocket(ep: RedisEndpoint, opts: ConnectOptions = {}): Promise<net.Socket> {
  const timeout = opts.connectTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket: net.Socket = ep.tls
      ? tls.connect({ host: ep.host, port: ep.port, ...(net.isIP(ep.host) ? {} : { servername: ep.host }), ...opts.tls })
      : net.connect({ host: ep.host, port: ep.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new IoError(`${ep.display}: connect timed out after ${timeout} ms`));
    }, timeout);
    socket.once(ep.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // surfaced through the read loop's end instead
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new IoError(`${ep.display}: cannot connect: ${e.code ?? e.message}`));
    });
  });
}
