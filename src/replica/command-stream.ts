import type { ByteSource } from '../util/byte-source.js';
import { FormatError } from '../util/errors.js';
import { newFrameSpans, scanCommandFrame, type FrameSpans } from './command-frame.js';

/**
 * Where applied commands go (the incr AOF): each command's frame exactly as the master sent it.
 * SELECT/PING/REPLCONF frames never reach it (the sink re-selects on a db change itself).
 */
export interface CommandSink {
  appendEncoded(db: number, frame: Buffer): void;
}

/**
 * Applies the replication stream with Redis's exact offset accounting (networking.c
 * `commandProcessed`): the offset counts every byte of every complete command (PING, SELECT,
 * MULTI, EXEC and REPLCONF GETACK included) and moves only after the command is applied; inside
 * MULTI it moves only at EXEC, so a link lost mid-transaction resumes before the MULTI and the
 * transaction is never half-applied. A GETACK is answered with the offset before itself.
 * Frames are handled synchronously a whole read at a time (no await per command): this loop is
 * the replica's hot path under a pipelined write load.
 */
export class CommandStream {
  /** Replication offset of the last applied command. */
  offset: number;
  /** The DB the stream has selected (persisted: the master does not re-send it on +CONTINUE). */
  db: number;
  commands = 0;
  private multi: { db: number; bytes: number; frame: Buffer; queued: Array<[number, Buffer]> } | null = null;

  constructor(offset: number, db: number) {
    this.offset = offset;
    this.db = db;
  }

  /**
   * Reads and applies commands until the source ends (returns normally: the caller treats it as
   * a lost link). `onGetAck` must send REPLCONF ACK with the offset it is given; `afterBatch`
   * runs after each read's worth of commands (flush, state, status).
   */
  async run(src: ByteSource, sink: CommandSink, onGetAck: (offset: number) => void, afterBatch?: () => Promise<void>): Promise<void> {
    const spans = newFrameSpans();
    let want = 1;
    for (;;) {
      if (!(await src.ensure(want))) return;
      const win = src.window();
      const base = src.offset;
      let pos = 0;
      for (;;) {
        const end = scanCommandFrame(win, pos, spans, src.name, base);
        if (end < 0) {
          // Ask for the whole argument at once when its size is known; the scan resumes where it stopped (FrameSpans).
          want = Math.max(-end - pos, win.length - pos + 1);
          break;
        }
        this.apply(win, spans, win.subarray(pos, end), sink, onGetAck);
        pos = end;
      }
      src.advance(pos);
      if (pos > 0 && afterBatch) await afterBatch();
    }
  }

  private apply(win: Buffer, sp: FrameSpans, frame: Buffer, sink: CommandSink, onGetAck: (offset: number) => void): void {
    const kind = controlCommand(win, sp.a0s, sp.a0e);
    const len = frame.length;
    // Inside MULTI every byte waits for EXEC, whatever the command.
    const m = this.multi;
    if (m) m.bytes += len;
    if (kind === Control.Replconf) {
      if (sp.a1s >= 0 && sp.a1e - sp.a1s === 6 && win.toString('latin1', sp.a1s, sp.a1e).toLowerCase() === 'getack') onGetAck(this.offset);
    } else if (kind === Control.Ping) {
      // heartbeat: counted, not stored
    } else if (kind === Control.Select) {
      const db = sp.a1s >= 0 ? Number(win.toString('latin1', sp.a1s, sp.a1e)) : NaN;
      if (!Number.isInteger(db) || db < 0) throw new FormatError('replication stream', this.offset, 'a DB number after SELECT');
      this.db = db;
    } else if (m) {
      if (kind !== Control.Exec) {
        m.queued.push([this.db, frame]);
        return;
      }
      this.multi = null;
      sink.appendEncoded(m.db, m.frame);
      for (const [db, f] of m.queued) sink.appendEncoded(db, f);
      sink.appendEncoded(this.db, frame);
      this.commands += m.queued.length;
      this.offset += m.bytes;
      return;
    } else if (kind === Control.Multi) {
      this.multi = { db: this.db, bytes: len, frame, queued: [] };
      return;
    } else {
      this.commands++;
      sink.appendEncoded(this.db, frame);
    }
    if (!m) this.offset += len;
  }

  /** Drops a transaction cut by a lost link: the resync resumes before its MULTI. */
  abandonPartial(): void {
    if (this.multi) {
      this.db = this.multi.db;
      this.multi = null;
    }
  }
}

const enum Control {
  None,
  Ping,
  Select,
  Multi,
  Exec,
  Replconf,
}

/** Classifies the stream's control commands by name (any case) without allocating for the rest. */
function controlCommand(b: Buffer, s: number, e: number): Control {
  const n = e - s;
  if (n !== 4 && n !== 5 && n !== 6 && n !== 8) return Control.None;
  switch (b.toString('latin1', s, e).toLowerCase()) {
    case 'ping':
      return Control.Ping;
    case 'select':
      return Control.Select;
    case 'multi':
      return Control.Multi;
    case 'exec':
      return Control.Exec;
    case 'replconf':
      return Control.Replconf;
    default:
      return Control.None;
  }
}
