import { RespReader } from '../codec/resp/parser.js';
import type { ByteSource } from '../util/byte-source.js';
import { FormatError } from '../util/errors.js';

/** Where applied commands go (the incr AOF). SELECT/PING/REPLCONF never reach it. */
export interface CommandSink {
  append(db: number, argv: Buffer[]): void | Promise<void>;
}

/**
 * Applies the replication stream with Redis's exact offset accounting (networking.c
 * `commandProcessed`): the offset counts every byte of every complete command (PING, SELECT,
 * MULTI, EXEC and REPLCONF GETACK included) and moves only after the command is applied; inside
 * MULTI it moves only at EXEC, so a link lost mid-transaction resumes before the MULTI and the
 * transaction is never half-applied. A GETACK is answered with the offset before itself.
 */
export class CommandStream {
  /** Replication offset of the last applied command. */
  offset: number;
  /** The DB the stream has selected (persisted: the master does not re-send it on +CONTINUE). */
  db: number;
  commands = 0;
  private multi: { db: number; bytes: number; queued: Array<[number, Buffer[]]> } | null = null;

  constructor(offset: number, db: number) {
    this.offset = offset;
    this.db = db;
  }

  /**
   * Reads and applies commands until the source ends (returns normally: the caller treats it as
   * a lost link). `onGetAck` must send REPLCONF ACK with the offset it is given; `afterCommand`
   * runs after each applied unit (for fsync/ACK/status bookkeeping).
   */
  async run(src: ByteSource, sink: CommandSink, onGetAck: (offset: number) => void, afterCommand?: () => void | Promise<void>): Promise<void> {
    const reader = new RespReader(src);
    for (;;) {
      const frame = await reader.next();
      if (!frame) return;
      const argv = frame.value;
      if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a): a is Buffer => Buffer.isBuffer(a))) {
        throw new FormatError(src.name, frame.offset, 'a command (RESP array of bulk strings) in the replication stream');
      }
      const r = this.apply(argv, frame.length, sink, onGetAck);
      if (r) await r;
      if (afterCommand) {
        const a = afterCommand();
        if (a) await a;
      }
    }
  }

  private apply(argv: Buffer[], len: number, sink: CommandSink, onGetAck: (offset: number) => void): void | Promise<void> {
    const name = commandName(argv[0]!);
    // Inside MULTI every byte waits for EXEC, whatever the command.
    const m = this.multi;
    if (m) m.bytes += len;
    if (name === 'replconf') {
      if (argv.length >= 2 && argv[1]!.toString('latin1').toLowerCase() === 'getack') onGetAck(this.offset);
    } else if (name === 'ping') {
      // heartbeat: counted, not stored
    } else if (name === 'select') {
      const db = Number(argv[1]?.toString('latin1'));
      if (!Number.isInteger(db) || db < 0) throw new FormatError('replication stream', this.offset, 'a DB number after SELECT');
      this.db = db;
    } else if (m) {
      if (name === 'exec') return this.commitMulti(sink, argv);
      m.queued.push([this.db, argv]);
      return;
    } else if (name === 'multi') {
      this.multi = { db: this.db, bytes: len, queued: [] };
      return;
    } else {
      this.commands++;
      const r = sink.append(this.db, argv);
      if (r) return r.then(() => this.advance(len));
    }
    if (!m) this.advance(len);
  }

  private async commitMulti(sink: CommandSink, exec: Buffer[]): Promise<void> {
    const m = this.multi!;
    this.multi = null;
    await sink.append(m.db, [Buffer.from('MULTI')]);
    for (const [db, argv] of m.queued) await sink.append(db, argv);
    await sink.append(this.db, exec);
    this.commands += m.queued.length;
    this.advance(m.bytes);
  }

  private advance(len: number): void {
    this.offset += len;
  }

  /** Drops a transaction cut by a lost link: the resync resumes before its MULTI. */
  abandonPartial(): void {
    if (this.multi) {
      this.db = this.multi.db;
      this.multi = null;
    }
  }
}

function commandName(b: Buffer): string {
  return b.length <= 8 ? b.toString('latin1').toLowerCase() : '';
}
