import { UsageError } from '../util/errors.js';

/**
 * Backup object names: `<name>-<YYYYMMDDTHHMMSSZ>.rdb[.gz][.gpg]` (UTC), manifest
 * `<stem>.manifest.json`, marker `<name>.last-success.json`. A cluster set: one object and
 * manifest per shard under `<stem>.shard<i>`, and the set manifest `<stem>.set.json`.
 */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const STEM_RE = /^(.+)-(\d{8}T\d{6}Z)(?:\.shard(\d+))?$/;

export const MANIFEST_SUFFIX = '.manifest.json';
export const SET_SUFFIX = '.set.json';

export function checkBackupName(name: string): string {
  if (!NAME_RE.test(name) || name.endsWith(MANIFEST_SUFFIX) || name.endsWith(SET_SUFFIX)) {
    throw new UsageError(`bad backup name "${name}" (letters, digits, dot, dash, underscore)`);
  }
  return name;
}

/** 2026-03-01T04:05:06.789Z → 20260301T040506Z */
export function stampOf(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function parseStamp(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) throw new UsageError(`bad timestamp ${stamp}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function stemFor(name: string, takenAt: Date): string {
  return `${name}-${stampOf(takenAt)}`;
}

export function objectNameFor(stem: string, compressed: boolean, encrypted: boolean): string {
  return `${stem}.rdb${compressed ? '.gz' : ''}${encrypted ? '.gpg' : ''}`;
}

export function manifestNameFor(stem: string): string {
  return `${stem}${MANIFEST_SUFFIX}`;
}

export function setManifestNameFor(stem: string): string {
  return `${stem}${SET_SUFFIX}`;
}

/** The stem of shard `index` of the set `stem`. */
export function shardStemFor(stem: string, index: number): string {
  return `${stem}.shard${index}`;
}

export function markerNameFor(name: string): string {
  return `${name}.last-success.json`;
}

/**
 * Splits a manifest, set manifest or object name into backup name and time; null for names that
 * are not ours. A shard's files also give the stem of their set.
 */
export function parseBackupFileName(file: string): { name: string; stem: string; takenAt: Date; setStem?: string } | null {
  const stem = file.endsWith(MANIFEST_SUFFIX)
    ? file.slice(0, -MANIFEST_SUFFIX.length)
    : file.endsWith(SET_SUFFIX)
      ? file.slice(0, -SET_SUFFIX.length)
      : file.replace(/\.rdb(\.gz)?(\.gpg)?$/, '');
  const m = STEM_RE.exec(stem);
  if (!m || (m[3] !== undefined && file.endsWith(SET_SUFFIX))) return null;
  return { name: m[1]!, stem, takenAt: parseStamp(m[2]!), ...(m[3] !== undefined ? { setStem: `${m[1]}-${m[2]}` } : {}) };
}

/** `--taken-at` accepts any ISO 8601 time with a zone; whole seconds are kept. */
export function parseTakenAt(text: string): Date {
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) throw new UsageError(`--taken-at needs a time zone (e.g. 2026-03-01T04:00:00Z), got "${text}"`);
  const t = new Date(text);
  if (Number.isNaN(t.getTime())) throw new UsageError(`--taken-at: not an ISO 8601 time: "${text}"`);
  return new Date(Math.floor(t.getTime() / 1000) * 1000);
}
