import { text } from 'node:stream/consumers';
import type { Compression } from '../backup/compress.js';
import type { BackupStore } from '../backup/store/store.js';
import { ExitCode, ToolError } from '../util/errors.js';
import { parsePitrName } from './names.js';

export const PITR_FORMAT = 'tsredis-ops-pitr/1' as const;

/**
 * The manifest beside each archive object, written after the object verified on that target
 * (as `backup` does): an object without one is never used. Times are the archiver's receive
 * clock; `firstTs`/`lastTs` are the `#TS:` seconds of the first and last command.
 */
export interface PitrManifest {
  format: typeof PITR_FORMAT;
  kind: 'base' | 'segment';
  name: string;
  chain: string;
  object: string;
  /** Archive-wide order in which the archiver produced it. */
  seq: number;
  replid: string;
  /** Segment: the replid of the segment before, when a partial resync (failover) continued the chain under a new one. */
  linkedFrom: string | null;
  /** Base: both equal the offset the dataset is at. Segment: the stream (startOffset, endOffset]. */
  startOffset: number;
  endOffset: number;
  /** Segment: when it was opened and cut. Base: when the dataset was taken (both the same). */
  openedAt: string;
  closedAt: string;
  firstTs: number | null;
  lastTs: number | null;
  commands: number;
  /** FLUSHALL/FLUSHDB in a segment: index of the command to cut before (its MULTI when inside one) and its second. */
  flushes: Array<{ index: number; ts: number; command: string }>;
  /** Base: keys in the dataset; how it was made. */
  keys?: number;
  source?: 'full-sync' | 'engine';
  plain: { size: number; sha256: string };
  stored: { size: number; sha256: string };
  compression: Compression;
  encryption: { mode: 'none' | 'passphrase' | 'recipients'; recipients?: string[] };
  tool: { name: 'tsredis-ops'; version: string };
}

/** Why a chain started, written when its first object is archived. */
export interface ChainRecord {
  format: typeof PITR_FORMAT;
  kind: 'chain';
  name: string;
  chain: string;
  startedAt: string;
  replid: string;
  offset: number;
  reason: string;
  /** The chain before it (its end is where the unrestorable gap starts). */
  previous: { chain: string; replid: string; endOffset: number } | null;
}

export function jsonBytes(v: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(v, null, 2)}\n`);
}

async function readJson(store: BackupStore, file: string): Promise<Record<string, unknown>> {
  const body = await text(await store.get(file));
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new ToolError(`${store.describe()}/${file}: not valid JSON`, ExitCode.DATA);
  }
}

/** Reads and checks one manifest: its fields must agree with its own name (a renamed manifest is refused). */
export async function readPitrManifest(store: BackupStore, file: string): Promise<PitrManifest> {
  const m = (await readJson(store, file)) as unknown as PitrManifest;
  const p = parsePitrName(file);
  const obj = parsePitrName(String(m.object));
  const bad = (why: string) => new ToolError(`${store.describe()}/${file}: ${why}`, ExitCode.DATA);
  if (m.format !== PITR_FORMAT || (m.kind !== 'base' && m.kind !== 'segment') || !m.stored?.sha256 || !m.plain?.sha256) throw bad('not a tsredis-ops archive manifest');
  if (!p || p.what !== 'manifest' || !obj || obj.what !== 'object' || obj.stem !== p.stem) throw bad(`manifest names object ${String(m.object)}, which is not its own`);
  if (p.chain !== m.chain || p.offset !== m.startOffset || (p.kind === 'b') !== (m.kind === 'base')) {
    throw bad(`manifest says ${m.kind} of chain ${m.chain} at offset ${m.startOffset}, its name says otherwise (renamed or reordered)`);
  }
  if (!(m.endOffset >= m.startOffset)) throw bad(`end offset ${m.endOffset} before start offset ${m.startOffset}`);
  return m;
}

export async function readChainRecord(store: BackupStore, file: string): Promise<ChainRecord> {
  const c = (await readJson(store, file)) as unknown as ChainRecord;
  const p = parsePitrName(file);
  if (c.format !== PITR_FORMAT || c.kind !== 'chain' || !p || p.what !== 'chain' || p.chain !== c.chain) {
    throw new ToolError(`${store.describe()}/${file}: not a chain record of its own chain`, ExitCode.DATA);
  }
  return c;
}

/** Everything of one archive on a target: manifests, chain records, objects (with sizes). */
export interface PitrCatalog {
  where: string;
  manifests: PitrManifest[];
  chains: ChainRecord[];
  /** Object name → size, for every object listed (with or without a manifest). */
  objects: Map<string, number>;
}

export async function readPitrCatalog(store: BackupStore, name: string): Promise<PitrCatalog> {
  const objects = new Map<string, number>();
  const manifestFiles: string[] = [];
  const chainFiles: string[] = [];
  for await (const o of store.list(`${name}.pitr.`)) {
    const p = parsePitrName(o.name);
    if (!p || p.name !== name) continue;
    if (p.what === 'manifest') manifestFiles.push(o.name);
    else if (p.what === 'chain') chainFiles.push(o.name);
    else objects.set(o.name, o.size);
  }
  const manifests: PitrManifest[] = [];
  // Small files: several at once (S3 latency dominates).
  for (let i = 0; i < manifestFiles.length; i += 16) manifests.push(...(await Promise.all(manifestFiles.slice(i, i + 16).map((f) => readPitrManifest(store, f)))));
  const chains = await Promise.all(chainFiles.map((f) => readChainRecord(store, f)));
  return { where: store.describe(), manifests, chains, objects };
}
