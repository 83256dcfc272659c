import type { RedisValue, StreamEntry } from '../codec/rdb/model.js';
import type { StreamMeta, ValueSink } from '../codec/rdb/value-sink.js';
import { JsonOut } from '../inspect/json-out.js';
import { KeyRespSink } from '../inspect/key-resp-sink.js';
import type { DigestedKey, DigestSink } from './digest-sink.js';
import { dropUnrepresentable, lossyNote, unrepresentable, type KeyPolicy } from './prepare-key.js';

/** A key the reader streamed (RdbKey.streamed): what became of it. */
export interface StreamedKey {
  /** RESP bytes written for it (0: not restored: expired, or dropped as unrepresentable). */
  bytes: number;
  lossy?: string;
  /** Why it was not restored, when it was not. */
  skipped?: 'expired' | { unrepresentable: string };
}

/** Where a streamed key's commands go (online restore: a KeyStream on the key's pipeline). */
export interface BigKeyOut {
  /** Whole RESP commands; a view, valid during the call only. */
  write(chunk: Buffer): void;
  /** The last commands are written; `expected`: the key's digest (restore --verify). */
  end(expected: DigestedKey | undefined): void;
}

/** Output handed out about this many bytes at a time. */
const CHUNK = 256 << 10;

/**
 * The one sink of an online restore's single read of the backup (raw mode with rawUpTo): every
 * key's expected DEBUG DIGEST-VALUE when verifying (DigestSink), and, for the keys too long to come
 * raw, the commands that rebuild them (KeyRespSink), handed out in chunks while the reader goes
 * on: a big key is parsed once and never held whole, in any form.
 */
export class RestoreSink implements ValueSink {
  /** Streamed keys in file order, until the caller takes them with their records. */
  private readonly streamedKeys: StreamedKey[] = [];
  private digesting = false;
  /** The streamed key open now, its commands (null when it is not restored) and where they go once there are some. */
  private streamed: { db: number; key: Buffer; expireAtMs: number | null; result: StreamedKey } | null = null;
  private cmd: KeyRespSink | null = null;
  private out: BigKeyOut | null = null;

  constructor(
    /** Expected digests (restore --verify), or null. */
    readonly digest: DigestSink | null,
    private readonly policy: KeyPolicy,
    /** Where a streamed key's commands go; called at its first chunk (it maps the db, and may throw). */
    private readonly outFor: (db: number, key: Buffer, expireAtMs: number | null) => BigKeyOut,
  ) {}

  /** Streams node by node in file order (Redis writes them in ID order; DigestSink and the XADDs of a streamed key need that). */
  readonly nodesInFileOrder = true;

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey: boolean, streamed?: boolean): boolean {
    this.digesting = this.digest?.key(db, b, start, end, rdbType, expireAtMs, valkey) ?? false;
    this.cmd = null;
    this.out = null;
    this.streamed = null;
    if (!streamed) return this.digesting;
    const s = (this.streamed = { db, key: Buffer.from(b.subarray(start, end)), expireAtMs, result: { bytes: 0 } as StreamedKey });
    if (expireAtMs !== null && expireAtMs <= this.policy.now) {
      s.result.skipped = 'expired';
      return true;
    }
    // The source db: the stream's pipeline SELECTs the mapped one, so no SELECT in the output.
    const cmd = new KeyRespSink({}, new JsonOut(2 * CHUNK), db, (v) => this.adapt(v));
    cmd.out.flushAt = CHUNK;
    cmd.out.drain = (chunk) => {
      this.out ??= this.outFor(s.db, s.key, s.expireAtMs);
      s.result.bytes += chunk.length;
      this.out.write(chunk);
    };
    cmd.key(db, b, start, end, rdbType, expireAtMs, valkey);
    this.cmd = cmd;
    return true;
  }

  /** What a streamed key the reader decoded whole (or a stream's state) keeps on the target; marks it skipped when nothing. */
  private adapt(v: RedisValue): RedisValue {
    const why = unrepresentable(v, this.policy.targetRdb);
    if (!why) return v;
    const kept = this.policy.lossy ? dropUnrepresentable(v, this.policy.now) : null;
    if (kept) {
      this.streamed!.result.lossy = lossyNote(why);
      return kept;
    }
    this.streamed!.result.skipped = { unrepresentable: why };
    return v;
  }

  /** The digest DigestSink made for the streamed key just ended, taken out of its list (its stream checks it). */
  private expected(db: number, key: Buffer): DigestedKey | undefined {
    const done = this.digest?.done;
    const last = done?.[done.length - 1];
    if (!last || last.db !== db || !last.key.equals(key)) return undefined;
    done!.pop();
    return last;
  }

  str(b: Buffer, start: number, end: number): void {
    if (this.digesting) this.digest!.str(b, start, end);
    this.cmd?.str(b, start, end);
  }

  int(v: number | bigint): void {
    if (this.digesting) this.digest!.int(v);
    this.cmd?.int(v);
  }

  score(x: number): void {
    if (this.digesting) this.digest!.score(x);
    this.cmd?.score(x);
  }

  scoreText(b: Buffer, start: number, end: number): void {
    if (this.digesting) this.digest!.scoreText(b, start, end);
    this.cmd?.scoreText(b, start, end);
  }

  value(v: RedisValue): void {
    if (this.digesting) this.digest!.value(v);
    this.cmd?.value(v);
  }

  streamNode(entries: readonly StreamEntry[]): void {
    if (this.digesting) this.digest!.streamNode(entries);
    this.cmd?.streamNode(entries);
  }

  streamEnd(meta: StreamMeta): void {
    if (this.digesting) this.digest!.streamEnd(meta);
    this.cmd?.streamEnd(meta);
  }

  end(): void {
    if (this.digesting) this.digest!.end();
    this.digesting = false;
    const s = this.streamed;
    const cmd = this.cmd;
    this.streamed = null;
    this.cmd = null;
    if (s === null) return; // a raw key: its digest is taken with its record
    if (cmd !== null) {
      if (typeof s.result.skipped === 'object') {
        // Only values decoded whole are judged at their end: nothing of them was handed out yet.
        if (s.result.bytes > 0) throw new Error(`restore: db ${s.db} key of ${s.result.bytes} bytes sent, then found unrepresentable (${s.result.skipped.unrepresentable})`);
      } else {
        cmd.end();
        cmd.out.flushAt = 0;
        cmd.out.boundary();
      }
    }
    const expected = this.expected(s.db, s.key);
    this.out?.end(expected);
    this.out = null;
    this.streamedKeys.push(s.result);
  }

  discard(): void {
    this.digest?.discard();
    this.digesting = false;
    // A streamed key is discarded before its first chunk (a record parsed again) or when the read fails.
    this.cmd?.discard();
    this.cmd = null;
    this.streamed = null;
    this.out = null;
  }

  func(): void {}

  /** What became of the next streamed key (in file order). */
  takeStreamed(): StreamedKey {
    const k = this.streamedKeys.shift();
    if (!k) throw new Error('restore: a streamed key without its sink record');
    return k;
  }
}
