import type net from 'node:net';
import { encodeCommand, type Arg } from '../codec/resp/encoder.js';
import { openSocket } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { IoError } from '../util/errors.js';

/** Called with a status/integer reply (ok) or an error reply's text. */
export type ReplyHandler = (ok: boolean, text: string) => void;

/**
 * A bare pipelined connection for the restore hot path: nearly every command sent on it (RESTORE,
 * SELECT, ASKING, RPUSH...) answers with one line (+OK, :n or -ERR), so replies are split on CRLF
 * and handed to callbacks in order — no promise and no general RESP parse per key. Bulk and array
 * replies (stream commands, DEBUG DIGEST-VALUE) give the text of their first bulk string, the
 * rest is stepped over. Hand-written for speed.
 */
export class RestorePipe {
  private handlers: ReplyHandler[] = [];
  private head = 0;
  private partial: Buffer | null = null;
  private failure: Error | null = null;
  private onFail: ((e: Error) => void) | null = null;

  private constructor(
    readonly socket: net.Socket,
    readonly endpoint: RedisEndpoint,
  ) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('close', () => this.fail(new IoError(`${endpoint.display}: connection closed`)));
    socket.on('error', (e) => this.fail(new IoError(`${endpoint.display}: ${e.message}`)));
  }

  static async open(ep: RedisEndpoint): Promise<RestorePipe> {
    const pipe = new RestorePipe(await openSocket(ep), ep);
    if (ep.password !== undefined) {
      const args: Arg[] = ep.username ? ['AUTH', ep.username, ep.password] : ['AUTH', ep.password];
      await new Promise<void>((resolve, reject) => {
        pipe.send(encodeCommand(args), (ok, text) => (ok ? resolve() : reject(new IoError(`${ep.display}: authentication failed: ${text}`))));
        pipe.onFail = reject;
      }).catch((e: unknown) => {
        pipe.close();
        throw e;
      });
    }
    return pipe;
  }

  get inFlight(): number {
    return this.handlers.length - this.head;
  }

  /** Called once if the connection breaks (pending handlers are told too). */
  onFailure(fn: (e: Error) => void): void {
    this.onFail = fn;
    if (this.failure) fn(this.failure);
  }

  /** Writes `frame`, which holds `replies` commands (one by default): `onReply` gets each reply. */
  send(frame: Buffer, onReply: ReplyHandler, replies = 1): void {
    if (this.failure) {
      for (let i = 0; i < replies; i++) onReply(false, `IOERR ${this.failure.message}`);
      return;
    }
    for (let i = 0; i < replies; i++) this.handlers.push(onReply);
    this.socket.write(frame);
  }

  private data(chunk: Buffer): void {
    const buf = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = null;
    let pos = 0;
    for (;;) {
      const cr = buf.indexOf(13, pos);
      if (cr < 0 || cr + 1 >= buf.length) break;
      const kind = buf[pos];
      const h = this.handlers[this.head];
      if (h && (kind === 0x24 || kind === 0x2a)) {
        // A bulk or array reply (XADD, XCLAIM of a big stream rebuilt with commands, DEBUG DIGEST-VALUE).
        const end = replyEnd(buf, pos);
        if (end < 0) break;
        this.head++;
        h(true, firstBulk(buf, pos));
        pos = end;
        continue;
      }
      if (!h || (kind !== 0x2b && kind !== 0x3a && kind !== 0x2d)) {
        this.fail(new IoError(`${this.endpoint.display}: unexpected reply ${JSON.stringify(buf.toString('latin1', pos, Math.min(cr, pos + 40)))} on the restore pipeline`));
        this.socket.destroy();
        return;
      }
      this.head++;
      // "+OK" is nearly every reply: no string built for it.
      if (kind === 0x2b && cr === pos + 3 && buf[pos + 1] === 0x4f && buf[pos + 2] === 0x4b) h(true, 'OK');
      else h(kind !== 0x2d, buf.toString('utf8', pos + 1, cr));
      pos = cr + 2;
    }
    if (pos < buf.length) this.partial = Buffer.from(buf.subarray(pos));
    if (this.head > 4096 && this.head * 2 > this.handlers.length) {
      this.handlers = this.handlers.slice(this.head);
      this.head = 0;
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const pending = this.handlers.slice(this.head);
    this.handlers = [];
    this.head = 0;
    for (const h of pending) h(false, `IOERR ${e.message}`);
    this.onFail?.(e);
  }

  close(): void {
    this.failure ??= new IoError(`${this.endpoint.display}: closed`);
    this.socket.destroy();
  }
}

/**
 * The text of the bulk string at `pos`, or of an array's first element when that is a bulk or
 * status string (DIGEST-VALUE answers an array of status strings); '' otherwise. The reply is whole.
 */
function firstBulk(b: Buffer, pos: number): string {
  if (b[pos] === 0x2a) {
    const head = b.indexOf(13, pos);
    if (Number(b.toString('latin1', pos + 1, head)) < 1) return '';
    pos = head + 2;
    if (b[pos] === 0x2b) return b.toString('latin1', pos + 1, b.indexOf(13, pos));
    if (b[pos] !== 0x24) return '';
  }
  const cr = b.indexOf(13, pos);
  const n = Number(b.toString('latin1', pos + 1, cr));
  return n < 0 ? '' : b.toString('latin1', cr + 2, cr + 2 + n);
}

/** The end of the RESP2 reply at `pos`, or -1 when it is not all in `b`. */
function replyEnd(b: Buffer, pos: number): number {
  const cr = b.indexOf(13, pos);
  if (cr < 0 || cr + 1 >= b.length) return -1;
  let p = cr + 2;
  const kind = b[pos];
  if (kind !== 0x24 && kind !== 0x2a) return p;
  const n = Number(b.toString('latin1', pos + 1, cr));
  if (kind === 0x24) return n < 0 ? p : p + n + 2 <= b.length ? p + n + 2 : -1;
  for (let i = 0; i < n && p >= 0; i++) p = replyEnd(b, p);
  return p;
}
