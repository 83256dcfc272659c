import { open, stat } from 'node:fs/promises';
import { manifestBase, manifestIncrs } from '../codec/aof/manifest.js';
import { newScanContext, scanAofResp, type ScanContext, type ScanResult } from '../codec/aof/scanner.js';
import { ByteSource } from '../util/byte-source.js';
import { entryPath, resolveAofLayout, startsWithRdb, strerror, type AofLayout } from '../codec/aof/layout.js';
import { crcAccumulator } from '../inspect/crc-thread.js';
import { checkRdbPart, type RdbPartCheck } from './rdb-part.js';

/** An RDB part at least this big has its CRC-64 computed on another thread (below, a thread costs more than it saves). */
const CRC_THREAD_MIN = 8 << 20;

/**
 * aof-check's analysis: walks the files in the order redis-check-aof does (old-style file, or the
 * manifest's base then every incr), reaching its verdict, cut point and refusals exactly, and adds
 * what the C tool does not say (commands dropped, tail vs middle damage). Touches nothing on disk;
 * cutting is `applyCut` (cut.ts).
 */

export type CheckMode = 'check' | 'fix' | 'timestamp';

export type FileStatus =
  | 'valid'
  | 'empty'
  | 'damaged'
  | 'rdb-damaged'
  | 'missing'
  | 'timestamp-cut'
  | 'timestamp-refused'
  | 'not-checked';

export interface FileReport {
  /** The name redis-check-aof prints (the manifest's name, or the path as given). */
  name: string;
  path: string;
  role: 'aof' | 'base' | 'incr';
  format: 'resp' | 'rdb';
  last: boolean;
  size: number;
  status: FileStatus;
  okUpTo: number;
  okUpToLine: number;
  diff: number;
  /** redis-check-aof's error line (`0x...: message`), or null. */
  error: string | null;
  formatError: boolean;
  rdb: RdbPartCheck | null;
  /** Complete commands up to the damage point, and those before ok_up_to (kept by a cut). */
  commands: number;
  commandsKept: number;
  /** Well-formed commands found after the damage point: a cut loses them too. */
  commandsAfterDamage: number;
  /** 'tail': only an incomplete last record/transaction; 'middle': good commands follow the damage. */
  damage: 'none' | 'tail' | 'middle';
  /** Where the damage starts (start of the unreadable record). */
  damageAt: number | null;
  /** --truncate-to-timestamp: start of the first annotation newer than the limit. */
  timestampCutAt: number | null;
}

export interface CutPlan {
  reason: 'fix' | 'timestamp' | 'undo-flush';
  name: string;
  path: string;
  fromSize: number;
  toSize: number;
  bytes: number;
  commands: number;
  damage: 'none' | 'tail' | 'middle';
}

export interface AofCheckReport {
  path: string;
  layout: 'single' | 'multi';
  manifest: string | null;
  mode: CheckMode;
  toTimestamp: number | null;
  files: FileReport[];
  /** All files readable and complete (what redis-check-aof calls valid). */
  valid: boolean;
  /** The cut that makes it valid (fix) or cuts at the timestamp; null when none is needed/possible. */
  plan: CutPlan | null;
  /** Why redis-check-aof would refuse to fix or truncate (exit 1), one line; null otherwise. */
  refusal: string | null;
  /** redis-check-aof's stdout for the same run (minus redis-check-rdb's own lines), assuming "y". */
  transcript: string[];
}

export interface CheckOptions {
  mode?: CheckMode;
  toTimestamp?: number;
  /** Called with progress (bytes scanned of the current file). */
  onFile?: (f: { name: string; size: number }) => void;
}

/** Thrown inside the file walk when redis-check-aof would exit(1) on the spot. */
class Abort {
  constructor(
    readonly reason: string,
    /** false: redis-check-aof exits without printing it (redis-check-rdb's exit on corrupt data). */
    readonly printed = true,
  ) {}
}

/** Runs redis-check-aof's analysis on PATH (file, manifest or appendonlydir). */
export async function checkAof(path: string, opts: CheckOptions = {}): Promise<AofCheckReport> {
  const mode = opts.mode ?? 'check';
  const T = mode === 'timestamp' ? (opts.toTimestamp ?? null) : null;
  const layout = await resolveAofLayout(path);
  const out: string[] = [];
  const files: FileReport[] = [];
  const ctx = newScanContext();
  const report: AofCheckReport = {
    path,
    layout: layout.kind,
    manifest: layout.kind === 'multi' ? layout.manifestPath : null,
    mode,
    toTimestamp: T,
    files,
    valid: true,
    plan: null,
    refusal: null,
    transcript: out,
  };

  const targets = listTargets(layout);
  try {
    out.push(layout.kind === 'multi' ? 'Start checking Multi Part AOF' : 'Start checking Old-Style AOF');
    let incrBanner = false;
    for (const t of targets) {
      const kind = layout.kind === 'single' ? 'AOF' : t.role === 'base' ? 'BASE AOF' : 'INCR AOF';
      let rdb = false;
      if (t.role === 'incr' && !incrBanner) {
        out.push('Start to check INCR files.');
        incrBanner = true;
      }
      if (t.role !== 'incr') {
        try {
          rdb = await startsWithRdb(t.path);
        } catch (e) {
          files.push(emptyReport(t, 'missing'));
          // fileIsRDB's own wording (no ", aborting...").
          throw new Abort(`Cannot open file ${t.path}: ${strerror(e)}`);
        }
        if (t.role === 'base') out.push(`Start to check BASE AOF (${rdb ? 'RDB' : 'RESP'} format).`);
      }
      opts.onFile?.({ name: t.name, size: 0 });
      const f = await checkOne(t, rdb, ctx, mode, T, out, report);
      if (f.status === 'valid') out.push(`${kind} ${t.name} is valid`);
      else if (f.status === 'empty') out.push(`${kind} ${t.name} is empty`);
      if (report.refusal || (!report.valid && mode === 'check')) break;
      if (report.plan) break; // only the last file can be cut, so nothing follows it
    }
    if (layout.kind === 'multi' && !report.refusal && (report.valid || report.plan)) out.push('All AOF files and manifest are valid');
  } catch (e) {
    if (!(e instanceof Abort)) throw e;
    if (e.printed) out.push(...e.reason.split('\n'));
    report.valid = false;
    report.refusal = e.reason;
  }
  // Files the walk did not reach are listed so the report names every file of the manifest.
  for (const t of targets.slice(files.length)) {
    if (!files.some((f) => f.path === t.path)) files.push(emptyReport(t, 'not-checked'));
  }
  return report;
}

interface Target {
  name: string;
  path: string;
  role: 'aof' | 'base' | 'incr';
  last: boolean;
}

function listTargets(layout: AofLayout): Target[] {
  if (layout.kind === 'single') return [{ name: layout.path, path: layout.path, role: 'aof', last: true }];
  const base = manifestBase(layout.manifest);
  const list: Target[] = [];
  if (base) list.push({ name: base.file, path: entryPath(layout, base.file), role: 'base', last: false });
  for (const e of manifestIncrs(layout.manifest)) list.push({ name: e.file, path: entryPath(layout, e.file), role: 'incr', last: false });
  if (list.length) list[list.length - 1]!.last = true;
  return list;
}

function emptyReport(t: Target, status: FileStatus): FileReport {
  return {
    name: t.name,
    path: t.path,
    role: t.role,
    format: 'resp',
    last: t.last,
    size: 0,
    status,
    okUpTo: 0,
    okUpToLine: 0,
    diff: 0,
    error: null,
    formatError: false,
    rdb: null,
    commands: 0,
    commandsKept: 0,
    commandsAfterDamage: 0,
    damage: 'none',
    damageAt: null,
    timestampCutAt: null,
  };
}

/** checkSingleAof: one file, in the given mode; records refusals and plans on the report. */
async function checkOne(
  t: Target,
  rdb: boolean,
  ctx: ScanContext,
  mode: CheckMode,
  T: number | null,
  out: string[],
  report: AofCheckReport,
): Promise<FileReport> {
  let size: number;
  try {
    const fh = await open(t.path, 'r');
    size = (await fh.stat()).size;
    await fh.close();
  } catch (e) {
    report.files.push(emptyReport(t, 'missing'));
    throw new Abort(`Cannot open file ${t.path}: ${strerror(e)}, aborting...`);
  }
  const f = emptyReport(t, 'valid');
  report.files.push(f); // filled in below; listed even when the walk stops at this file
  f.size = size;
  f.format = rdb ? 'rdb' : 'resp';
  if (size === 0) {
    f.status = 'empty';
    f.okUpToLine = ctx.line;
    return f;
  }
  if (rdb) {
    const rsrc = ByteSource.fromFile(t.path);
    try {
      f.rdb = await checkRdbPart(rsrc, size >= CRC_THREAD_MIN ? crcAccumulator() : undefined);
    } finally {
      await rsrc.close();
    }
    if (!f.rdb.ok) {
      f.status = 'rdb-damaged';
      report.valid = false;
      throw new Abort('RDB preamble of AOF file is not sane, aborting.', !f.rdb.corrupt);
    }
    out.push('RDB preamble is OK, proceeding with AOF tail...');
  }
  const src = ByteSource.fromFile(t.path, f.rdb ? f.rdb.end : 0);
  try {
    let badAnnotation = false;
    const scan = await scanAofResp(src, ctx, {
      name: t.name,
      path: t.path,
      onAnnotation: T === null ? undefined : (a) => {
        if (a.text.toString('latin1', 0, 4) !== '#TS:') return false;
        const ts = parseAnnotationTs(a.text);
        if (ts === null) {
          badAnnotation = true;
          return true;
        }
        return ts > T;
      },
    });
    fillFromScan(f, scan, size, ctx);
    if (badAnnotation) throw new Abort('Invalid timestamp annotation');
    if (scan.stoppedAt !== null) {
      // A #TS newer than the limit: redis-check-aof cuts here at once, before any other verdict.
      f.timestampCutAt = scan.stoppedAt;
      f.okUpTo = scan.stoppedAt;
      f.diff = size - scan.stoppedAt;
      if (scan.stoppedAt === 0) {
        f.status = 'timestamp-refused';
        throw new Abort(`AOF ${t.path} has nothing before timestamp ${T}, aborting...`);
      }
      if (!t.last) {
        f.status = 'timestamp-refused';
        throw new Abort(
          `Failed to truncate AOF ${t.path} to timestamp ${T} to offset ${scan.stoppedAt} because it is not the last file.\n` +
            'If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.',
        );
      }
      f.status = 'timestamp-cut';
      f.commandsAfterDamage = await countRecords(t.path, scan.stoppedAt);
      report.plan = planOf('timestamp', f, scan.stoppedAt, f.commandsAfterDamage, 'none');
      out.push(`Successfully truncated AOF ${t.name} to timestamp ${T}`);
      return f;
    }
    if (scan.formatError) out.push(`AOF ${t.name} format error`);
    if (scan.error) out.push(scan.error);
    if (f.diff === 0 && T !== null) {
      out.push(`Truncate nothing in AOF ${t.name} to timestamp ${T}`);
      return f;
    }
    out.push(`AOF analyzed: filename=${t.name}, size=${size}, ok_up_to=${f.okUpTo}, ok_up_to_line=${f.okUpToLine}, diff=${f.diff}`);
    if (f.diff === 0) return f;

    f.status = 'damaged';
    report.valid = false;
    await classifyDamage(f, scan);
    if (mode !== 'fix') throw new Abort(`AOF ${t.name} is not valid. Use the --fix option to try fixing it.`);
    if (!t.last) throw new Abort(`Failed to truncate AOF ${t.name} because it is not the last file`);
    report.plan = planOf('fix', f, f.okUpTo, f.commands - f.commandsKept + f.commandsAfterDamage, f.damage);
    out.push(`This will shrink the AOF ${t.name} from ${size} bytes, with ${f.diff} bytes, to ${f.okUpTo} bytes`);
    out.push(`Continue? [y/N]: Successfully truncated AOF ${t.name}`);
    return f;
  } finally {
    await src.close();
  }
}

function fillFromScan(f: FileReport, scan: ScanResult, size: number, ctx: ScanContext): void {
  f.okUpTo = scan.okUpTo;
  f.okUpToLine = ctx.line;
  f.diff = size - scan.okUpTo;
  f.error = scan.error;
  f.formatError = scan.formatError;
  f.commands = scan.records;
  f.commandsKept = scan.recordsKept;
  f.damageAt = scan.failedAt ?? (scan.multiOpen ? scan.okUpTo : null);
}

function planOf(reason: CutPlan['reason'], f: FileReport, to: number, commands: number, damage: CutPlan['damage']): CutPlan {
  return { reason, name: f.name, path: f.path, fromSize: f.size, toSize: to, bytes: f.size - to, commands, damage };
}

/** `#TS:<n>\r\n` → n, or null where redis-check-aof says "Invalid timestamp annotation". */
export function parseAnnotationTs(line: Buffer): number | null {
  const m = /^#TS:([\t\n\v\f\r ]*[+-]?\d+)/.exec(line.toString('latin1'));
  const digits = m ? m[1]! : '';
  const end = m ? 4 + digits.length : 4;
  if (line[end] !== 13) return null; // strtol's end must be the CR
  if (!m) return 0; // no digits: strtol returns 0 and points at the CR
  const v = BigInt(digits.trim().replace(/^\+/, ''));
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null; // ERANGE
  return Number(v);
}

/**
 * Says whether good commands follow the damage: from the damage point, looks for the next line
 * starting with `*` from which well-formed records can be read, and counts them (again after each
 * further defect). Bounded, so a file full of garbage stays quick.
 */
async function classifyDamage(f: FileReport, scan: ScanResult): Promise<void> {
  const from = scan.failedAt;
  let after = 0;
  if (from !== null) {
    let at = from + 1;
    for (let attempts = 0; attempts < 2000 && at < f.size; attempts++) {
      const next = await findLineStart(f.path, at, f.size);
      if (next === null) break;
      const src = ByteSource.fromFile(f.path, next);
      try {
        const r = await scanAofResp(src, newScanContext(), { name: f.name, path: f.path });
        after += r.records;
        at = r.failedAt !== null && r.failedAt > next ? r.failedAt : next + 1;
        if (r.failedAt === null) break;
      } finally {
        await src.close();
      }
    }
  }
  f.commandsAfterDamage = after;
  f.damage = after > 0 ? 'middle' : 'tail';
}

/** Offset of the next `*` that starts a line (follows a LF), at or after `from`. */
async function findLineStart(path: string, from: number, size: number): Promise<number | null> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let pos = Math.max(from - 1, 0);
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      const view = buf.subarray(0, bytesRead);
      for (let i = view.indexOf(10, 0); i >= 0 && i + 1 < bytesRead; i = view.indexOf(10, i + 1)) {
        if (view[i + 1] === 0x2a && pos + i + 1 >= from) return pos + i + 1;
      }
      if (bytesRead < 2) break;
      pos += bytesRead - 1;
    }
    return null;
  } finally {
    await fh.close();
  }
}

/** Complete records from `from` to the first defect or the end (what a cut at `from` drops). */
export async function countRecords(path: string, from: number): Promise<number> {
  const size = (await stat(path)).size;
  if (from >= size) return 0;
  const src = ByteSource.fromFile(path, from);
  try {
    const r = await scanAofResp(src, newScanContext(), { name: path, path });
    return r.records;
  } finally {
    await src.close();
  }
}
