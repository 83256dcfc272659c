import { UsageError } from '../util/errors.js';
import { stampOf } from '../backup/naming.js';

/**
 * Object names of a point-in-time archive inside a target (flat, as every store takes them):
 *   <name>.pitr.<chain>.chain.json                      chain record (why the chain started)
 *   <name>.pitr.<chain>.b.<offset:20>.rdb[.gz][.gpg]    base: the dataset at replication offset
 *   <name>.pitr.<chain>.s.<start:20>.aof[.gz][.gpg]     segment: the stream (start, end]
 *   <object stem>.manifest.json                         written last, after the object verified
 * Offsets are zero-padded so a listing sorts a chain in stream order. The chain id is the UTC
 * time it started plus 4 hex digits (sortable, unique across restarts and machines). None of
 * these names parse as a `backup` name, so list/prune/verify of backups never touch them.
 */
export type PitrKind = 'b' | 's';

const CHAIN_RE = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
const OBJECT_RE = /^(.+)\.pitr\.(\d{8}T\d{6}Z-[0-9a-f]{4})\.(b|s)\.(\d{20})\.(rdb|aof)(\.gz)?(\.gpg)?$/;
const MANIFEST_RE = /^(.+)\.pitr\.(\d{8}T\d{6}Z-[0-9a-f]{4})\.(b|s)\.(\d{20})\.manifest\.json$/;
const CHAIN_RECORD_RE = /^(.+)\.pitr\.(\d{8}T\d{6}Z-[0-9a-f]{4})\.chain\.json$/;

export function newChainId(now: Date, rand: () => number = Math.random): string {
  return `${stampOf(now)}-${Math.floor(rand() * 0x10000).toString(16).padStart(4, '0')}`;
}

export function checkChainId(id: string): string {
  if (!CHAIN_RE.test(id)) throw new UsageError(`bad chain id "${id}"`);
  return id;
}

export function pitrPrefix(name: string): string {
  return `${name}.pitr.`;
}

export function stemOf(name: string, chain: string, kind: PitrKind, offset: number): string {
  return `${name}.pitr.${chain}.${kind}.${String(offset).padStart(20, '0')}`;
}

export function objectName(stem: string, kind: PitrKind, compressed: boolean, encrypted: boolean): string {
  return `${stem}.${kind === 'b' ? 'rdb' : 'aof'}${compressed ? '.gz' : ''}${encrypted ? '.gpg' : ''}`;
}

export function manifestName(stem: string): string {
  return `${stem}.manifest.json`;
}

export function chainRecordName(name: string, chain: string): string {
  return `${name}.pitr.${chain}.chain.json`;
}

export type ParsedPitrName =
  | { what: 'object' | 'manifest'; name: string; chain: string; kind: PitrKind; offset: number; stem: string }
  | { what: 'chain'; name: string; chain: string };

/** What a listed object is, or null for names that are not part of an archive. */
export function parsePitrName(file: string): ParsedPitrName | null {
  const c = CHAIN_RECORD_RE.exec(file);
  if (c) return { what: 'chain', name: c[1]!, chain: c[2]! };
  const m = MANIFEST_RE.exec(file) ?? OBJECT_RE.exec(file);
  if (!m) return null;
  const stem = `${m[1]}.pitr.${m[2]}.${m[3]}.${m[4]}`;
  return { what: file.endsWith('.manifest.json') ? 'manifest' : 'object', name: m[1]!, chain: m[2]!, kind: m[3] as PitrKind, offset: Number(m[4]), stem };
}
