import type net from 'node:net';
import { encodeCommand, type Arg } from '../codec/resp/encoder.js';
import { openSocket } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { pieces } from '../util/buffer-pieces.js';
import { IoError } from '../util/errors.js';

/**
 * Called with a status/integer reply (ok) or an error reply's text; for a handler sent with
 * `bytes`, a bulk reply comes as `bulk`, its bytes in pieces as they arrived (views; null for a
 * null bulk), instead of its text.
 */
export type ReplyHandler = (ok: boolean, text: string, bulk?: Buffer[] | null) => void;

/**
 * A bare pipelined connection for the restore hot path: nearly every command sent on it (RESTORE,
 * SELECT, ASKING, RPUSH...) answers with one line (+OK, :n or -ERR), so replies are split on CRLF
 * and handed to callbacks in order — no promise and no general RESP parse per key. Bulk and array
 * replies (stream commands, DEBUG DIGEST-VALUE) give the text of their first bulk string, the
 * rest is stepped over; a DUMP reply (restore --verify of a big key) gives its bytes. Hand-written
 * for speed.
 */
export class RestorePipe {
  private handlers: ReplyHandler[] = [];
  private head = 0;
  /** Handlers that take bulk replies as bytes. */
  private readonly wantBytes = new WeakSet<ReplyHandler>();
  /** The bytes of an incomplete reply, as they came: joined once it is whole (`need`), not per chunk. */
  private parts: Buffer[] = [];
  private have = 0;
  /** What the incomplete reply needs in all (a bulk string's known length), or 0: try at every chunk. */
  private need = 0;
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

  /**
   * Writes `frame`, which holds `replies` commands (one by default): `onReply` gets each reply,
   * bulk replies as bytes with `bytes`.
   */
  send(frame: Buffer, onReply: ReplyHandler, replies = 1, bytes = false): void {
    if (this.failure) {
      for (let i = 0; i < replies; i++) onReply(false, `IOERR ${this.failure.message}`);
      return;
    }
    if (bytes) this.wantBytes.add(onReply);
    for (let i = 0; i < replies; i++) this.handlers.push(onReply);
    this.socket.write(frame);
  }

  private data(chunk: Buffer): void {
    let buf = chunk;
    if (this.parts.length > 0) {
      this.parts.push(chunk);
      this.have += chunk.length;
      if (this.have < this.need) return;
      const parts = this.parts;
      this.parts = [];
      const h = this.handlers[this.head];
      if (this.need > 0 && h && this.wantBytes.has(h)) {
        // A big bulk (a DUMP) goes out in its pieces, never joined.
        this.head++;
        const head = parts[0]!.indexOf(13) + 2;
        h(true, '', pieces(parts, head, this.need - 2));
        const last = parts[parts.length - 1]!;
        buf = last.subarray(last.length - (this.have - this.need));
        if (buf.length === 0) return;
      } else buf = Buffer.concat(parts, this.have);
    }
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
        if (kind === 0x24 && this.wantBytes.has(h)) h(true, '', bulkPieces(buf, pos, end));
        else h(true, firstBulk(buf, pos));
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
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.parts = [rest];
      this.have = rest.length;
      this.need = bulkLength(rest);
    }
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

/** The bytes of the bulk string reply b[pos, end) (one view), or null for a null bulk. */
function bulkPieces(b: Buffer, pos: number, end: number): Buffer[] | null {
  const cr = b.indexOf(13, pos);
  return b[pos + 1] === 0x2d ? null : [b.subarray(cr + 2, end - 2)];
}

/** The whole length of the bulk string reply `b` starts with, once its header is in; else 0. */
function bulkLength(b: Buffer): number {
  if (b[0] !== 0x24) return 0;
  const cr = b.indexOf(13);
  if (cr < 0 || cr + 1 >= b.length) return 0;
  const n = Number(b.toString('latin1', 1, cr));
  return n < 0 ? 0 : cr + 2 + n + 2;
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
