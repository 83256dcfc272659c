/**
 * The Redis 7 multi-part AOF manifest (`appendonly.aof.manifest`): parser and writer with the exact
 * grammar of Redis's `aofLoadManifestFromFile` / `aofInfoFormat` (formats §4.4). Hand-written
 * because the quoting (sdssplitargs / sdscatrepr) and the error wording must match Redis's own.
 */

export type AofFileType = 'b' | 'h' | 'i';

export interface AofManifestEntry {
  file: string;
  seq: number;
  type: AofFileType;
  /**
   * Replication offsets an incr file starts and ends at (`startoffset`/`endoffset`, written by
   * newer Redis releases); kept so that a manifest we rewrite says what Redis's own would.
   */
  startOffset?: number;
  endOffset?: number;
}

export interface AofManifest {
  /** In file order (Redis writes the base first, then history, then incr). */
  entries: AofManifestEntry[];
}

/** A manifest Redis would refuse to load; `message` is Redis's own wording. */
export class ManifestError extends Error {
  constructor(
    readonly manifest: string,
    readonly reason: string,
    /** 1-based line number (comments included, as Redis counts) and its trimmed text, when known. */
    readonly line?: number,
    readonly text?: string,
  ) {
    super(`${manifest}: ${reason}${line !== undefined ? ` (manifest line ${line}: '${text ?? ''}')` : ''}`);
    this.name = 'ManifestError';
  }
}

/** Redis's MANIFEST_MAX_LINE: fgets reads at most this many bytes per line. */
const MAX_LINE = 1024;

/** C `isspace` in the C locale (bytes >= 0x80 are not spaces). */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** C `isprint` in the C locale. */
function isPrint(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Splits a line into arguments like Redis's `sdssplitargs`: blanks separate tokens, "double quotes"
 * take C escapes (\n \r \t \b \a \xHH, others literal), 'single quotes' only \'; a closing quote
 * must be followed by a blank or the end. Returns null where Redis returns NULL (bad quoting).
 * The input stops at the first NUL byte, as a C string does.
 */
export function splitArgs(input: Buffer): Buffer[] | null {
  const nul = input.indexOf(0);
  const line = nul >= 0 ? input.subarray(0, nul) : input;
  const at = (i: number): number => (i < line.length ? line[i]! : 0);
  const out: Buffer[] = [];
  let p = 0;
  for (;;) {
    while (at(p) !== 0 && isSpace(at(p))) p++;
    if (at(p) === 0) return out;
    const cur: number[] = [];
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === 0x5c && at(p + 1) === 0x78 && hexVal(at(p + 2)) >= 0 && hexVal(at(p + 3)) >= 0) {
          cur.push(hexVal(at(p + 2)) * 16 + hexVal(at(p + 3)));
          p += 3;
        } else if (c === 0x5c && at(p + 1) !== 0) {
          p++;
          const e = at(p);
          cur.push(e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e === 0x62 ? 8 : e === 0x61 ? 7 : e);
        } else if (c === 0x22) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null;
        } else {
          cur.push(c);
        }
      } else if (insq) {
        if (c === 0x5c && at(p + 1) === 0x27) {
          p++;
          cur.push(0x27);
        } else if (c === 0x27) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null;
        } else {
          cur.push(c);
        }
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0) {
        done = true;
      } else if (c === 0x22) {
        inq = true;
      } else if (c === 0x27) {
        insq = true;
      } else {
        cur.push(c);
      }
      if (at(p) !== 0) p++;
    }
    out.push(Buffer.from(cur));
  }
}

/** True when Redis would quote this name in a manifest (`sdsneedsrepr`). */
export function needsQuoting(name: Buffer): boolean {
  for (const c of name) {
    if (c === 0x5c || c === 0x22 || !isPrint(c) || isSpace(c)) return true;
  }
  return false;
}

/** Redis's `sdscatrepr`: a double-quoted form that `splitArgs` reads back to the same bytes. */
export function quoteArg(name: Buffer): string {
  let s = '"';
  for (const c of name) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (c === 10) s += '\\n';
    else if (c === 13) s += '\\r';
    else if (c === 9) s += '\\t';
    else if (c === 7) s += '\\a';
    else if (c === 8) s += '\\b';
    else if (isPrint(c)) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}"`;
}

/** C `atoll`: optional blanks and sign, then digits; anything else stops it (0 when none). */
function atoll(b: Buffer): number {
  let i = 0;
  while (i < b.length && isSpace(b[i]!)) i++;
  let neg = false;
  if (b[i] === 0x2d || b[i] === 0x2b) neg = b[i++] === 0x2d;
  let n = 0;
  while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) n = n * 10 + (b[i++]! - 0x30);
  return neg ? -n : n;
}

/** Trims the bytes Redis's `sdstrim(line, " \t\r\n")` removes. */
function trim(b: Buffer): Buffer {
  const strip = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
  let s = 0;
  let e = b.length;
  while (s < e && strip(b[s]!)) s++;
  while (e > s && strip(b[e - 1]!)) e--;
  return b.subarray(s, e);
}

/**
 * Parses a manifest exactly as Redis loads it; throws ManifestError with Redis's message for any
 * manifest the server would refuse ("Invalid AOF manifest file format", "Found duplicate base file
 * information", ...). `name` is used in messages.
 */
export function parseManifest(text: Buffer | string, name: string): AofManifest {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (data.length === 0) throw new ManifestError(name, 'Found an empty AOF manifest');
  const entries: AofManifestEntry[] = [];
  let maxIncrSeq = 0;
  let haveBase = false;
  let linenum = 0;
  let pos = 0;
  while (pos < data.length) {
    // fgets(buf, 1025): at most 1024 bytes, up to and including '\n'.
    const lf = data.indexOf(10, pos);
    const end = lf >= 0 && lf - pos < MAX_LINE ? lf + 1 : Math.min(pos + MAX_LINE, data.length);
    const raw = data.subarray(pos, end);
    pos = end;
    linenum++;
    if (raw[0] === 0x23) continue; // comment
    const fail = (reason: string, shown?: Buffer): never => {
      throw new ManifestError(name, reason, shown ? linenum : undefined, shown ? printable(shown) : undefined);
    };
    // C string semantics: the line ends at a NUL byte, and must contain the newline.
    const nul = raw.indexOf(0);
    const cline = nul >= 0 ? raw.subarray(0, nul) : raw;
    if (cline.indexOf(10) < 0) fail('The AOF manifest file contains too long line');
    const line = trim(cline);
    if (line.length === 0) fail('Invalid AOF manifest file format', line);
    const argv = splitArgs(line);
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0) fail('Invalid AOF manifest file format', line);
    let file: Buffer | null = null;
    let seq = 0;
    let type = 0;
    let startOffset = -1;
    let endOffset = -1;
    for (let i = 0; i < argv!.length; i += 2) {
      const key = argv![i]!.toString('latin1').toLowerCase();
      const val = argv![i + 1]!;
      if (key === 'file') {
        const z = val.indexOf(0);
        file = z >= 0 ? val.subarray(0, z) : val;
        if (file.includes(0x2f) || file.includes(0x5c)) fail("File can't be a path, just a filename", line);
      } else if (key === 'seq') {
        seq = atoll(val);
      } else if (key === 'type') {
        type = val.length ? val[0]! : 0;
      } else if (key === 'startoffset') {
        startOffset = atoll(val);
      } else if (key === 'endoffset') {
        endOffset = atoll(val);
      }
    }
    if (!file || file.length === 0 || !seq || !type) fail('Invalid AOF manifest file format', line);
    const entry: AofManifestEntry = { file: file!.toString('utf8'), seq, type: String.fromCharCode(type) as AofFileType };
    if (startOffset !== -1) entry.startOffset = startOffset;
    if (endOffset !== -1) entry.endOffset = endOffset;
    if (entry.type === 'b') {
      if (haveBase) fail('Found duplicate base file information', line);
      haveBase = true;
    } else if (entry.type === 'i') {
      if (seq <= maxIncrSeq) fail('Found a non-monotonic sequence number', line);
      maxIncrSeq = seq;
    } else if (entry.type !== 'h') {
      fail('Unknown AOF file type', line);
    }
    entries.push(entry);
  }
  return { entries };
}

function printable(b: Buffer): string {
  return b.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One manifest line as Redis's `aofInfoFormat` writes it. */
export function formatManifestEntry(e: AofManifestEntry): string {
  const name = Buffer.from(e.file, 'utf8');
  // The end offset is written only after a start offset, as aofInfoFormat does.
  const offsets = e.startOffset === undefined ? '' : ` startoffset ${e.startOffset}${e.endOffset === undefined ? '' : ` endoffset ${e.endOffset}`}`;
  return `file ${needsQuoting(name) ? quoteArg(name) : e.file} seq ${e.seq} type ${e.type}${offsets}\n`;
}

/** The manifest text Redis writes: base first, then history, then incr (each in list order). */
export function formatManifest(m: AofManifest): string {
  const order: AofFileType[] = ['b', 'h', 'i'];
  return order.flatMap((t) => m.entries.filter((e) => e.type === t)).map(formatManifestEntry).join('');
}

/** The base entry, if any. */
export function manifestBase(m: AofManifest): AofManifestEntry | undefined {
  return m.entries.find((e) => e.type === 'b');
}

/** Incr entries in load order. */
export function manifestIncrs(m: AofManifest): AofManifestEntry[] {
  return m.entries.filter((e) => e.type === 'i');
}

/** The files Redis loads, in order: the base (if any) then every incr. */
export function manifestLoadOrder(m: AofManifest): AofManifestEntry[] {
  const base = manifestBase(m);
  return [...(base ? [base] : []), ...manifestIncrs(m)];
}
