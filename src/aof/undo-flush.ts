import { readAof } from '../codec/aof/reader.js';
import { checkAof, countRecords, type AofCheckReport, type CutPlan } from './check.js';

/**
 * Undoing an accidental FLUSHALL/FLUSHDB, the recipe operators follow by hand: the AOF still holds
 * every write before the flush, so cutting the last file just before the flush (or before the
 * MULTI that wraps it) brings the data back on the next start. Only safe when nothing was written
 * after the flush; otherwise those writes would be lost, so it refuses and says what follows.
 */

export interface FlushLocation {
  file: string;
  offset: number;
  /** Where the cut goes: the flush itself, or the MULTI that opened its transaction. */
  cutAt: number;
  command: string;
  db: number;
  timestampS: number | null;
}

export interface UndoFlushAnalysis {
  check: AofCheckReport;
  flush: FlushLocation | null;
  /** Commands after the flush other than SELECT/MULTI/EXEC. */
  writesAfter: number;
  firstWriteAfter: { file: string; offset: number; command: string } | null;
  plan: CutPlan | null;
  refusal: string | null;
}

const HARMLESS = new Set(['select', 'multi', 'exec']);

function shown(argv: Buffer[]): string {
  return argv
    .slice(0, 3)
    .map((a, i) => {
      const s = i === 0 ? a.toString('utf8').toUpperCase() : a.toString('utf8');
      return s.length > 40 ? `${s.slice(0, 40)}...` : s;
    })
    .join(' ');
}

export async function analyzeUndoFlush(path: string): Promise<UndoFlushAnalysis> {
  const check = await checkAof(path, { mode: 'check' });
  const result: UndoFlushAnalysis = { check, flush: null, writesAfter: 0, firstWriteAfter: null, plan: null, refusal: null };
  if (!check.valid) {
    result.refusal = `the AOF is damaged (${check.refusal ?? 'see the check'}); repair it first with --fix, then run --undo-flush again`;
    return result;
  }
  const lastFile = check.files.filter((f) => f.status !== 'not-checked').at(-1)?.path ?? null;
  let multiStart: { file: string; offset: number } | null = null;
  for await (const item of readAof(path, { rdb: false })) {
    if (item.kind !== 'command') continue;
    const name = item.argv[0]!.toString('latin1').toLowerCase();
    if (name === 'multi') multiStart = { file: item.file, offset: item.offset };
    if (name === 'flushall' || name === 'flushdb') {
      const inMulti = multiStart !== null && multiStart.file === item.file;
      result.flush = {
        file: item.file,
        offset: item.offset,
        cutAt: inMulti ? multiStart!.offset : item.offset,
        command: shown(item.argv),
        db: item.db,
        timestampS: item.timestampS,
      };
      result.writesAfter = 0;
      result.firstWriteAfter = null;
    } else if (result.flush && !HARMLESS.has(name)) {
      result.writesAfter++;
      result.firstWriteAfter ??= { file: item.file, offset: item.offset, command: shown(item.argv) };
    }
    if (name === 'exec') multiStart = null;
  }
  const f = result.flush;
  if (!f) {
    result.refusal =
      'no FLUSHALL or FLUSHDB in the files Redis loads: nothing to undo (if an AOF rewrite ran after the flush, the data before it is only in history files or backups)';
  } else if (result.writesAfter > 0) {
    const w = result.firstWriteAfter!;
    result.refusal =
      `${result.writesAfter} write command(s) came after the last ${f.command} (${f.file} at byte ${f.offset}), the first being "${w.command}" ` +
      `(${w.file} at byte ${w.offset}); cutting before the flush would lose them. Restore from a backup, or find a cut point with aof-dump`;
  } else if (f.file !== lastFile) {
    result.refusal = `the last ${f.command} is in ${f.file}, not in the last file Redis loads (${lastFile}); later files would have to be removed from the manifest by hand`;
  } else {
    const fileReport = check.files.find((x) => x.path === f.file)!;
    const commands = await countRecords(f.file, f.cutAt);
    result.plan = {
      reason: 'undo-flush',
      name: fileReport.name,
      path: f.file,
      fromSize: fileReport.size,
      toSize: f.cutAt,
      bytes: fileReport.size - f.cutAt,
      commands,
      damage: 'none',
    };
  }
  return result;
}
