import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { decodeDump } from '../../../src/codec/rdb/dump.js';
import { hashFieldKey, type RdbKey, type RedisValue } from '../../../src/codec/rdb/model.js';
import { functionToCommand, valueToCommands } from '../../../src/codec/rdb/to-commands.js';
import { RespError } from '../../../src/codec/resp/types.js';
import type { RedisClient } from '../../../src/net/redis-client.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { CORPUS, keysOf, readAll, walk } from '../rdb-read/corpus-helpers.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export type Json = Record<string, unknown>;

export interface Dataset {
  name: string;
  file: string;
  gt: Json;
  rdbVersion: number;
  /** No hash-field TTLs: everything in it exists in Redis 7.0. */
  holdableBy70: boolean;
}

/** The server-made datasets of the corpus with their ground truth. */
export function corpusDatasets(): Dataset[] {
  return walk(`${CORPUS}rdb`, '.rdb').map((file) => {
    const gt = JSON.parse(readFileSync(file.replace(/\.rdb$/, '.json'), 'utf8')) as Json;
    const hasFieldTtl = (gt.keys as Json[]).some((k) => Object.keys(fieldTtls(k)).length > 0);
    return { name: file.slice(CORPUS.length), file, gt, rdbVersion: (gt.files as Json[])[0]!.rdb_version as number, holdableBy70: !hasFieldTtl };
  });
}

/** A ground-truth key's hash-field TTLs ({} for other keys). */
export function fieldTtls(k: Json): Json {
  return (((k.value as Json | null)?.field_expire_at_ms as Json | undefined) ?? {}) as Json;
}

/** Keys (decoded) and function libraries of an RDB file, read with our reader. */
export async function readSource(file: string): Promise<{ keys: RdbKey[]; functions: Buffer[] }> {
  const records = await readAll(ByteSource.fromFile(file));
  return { keys: keysOf(records), functions: records.flatMap((r) => (r.kind === 'function' ? [r.code] : [])) };
}

/** Awaits `p`, failing with the step's name if it takes longer than `ms` (a hang names itself). */
export async function step<T>(name: string, p: Promise<T>, ms = 25_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no result after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the built CLI (npm test builds dist first). */
export function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tsredis-rdbw-'));
}

/** Config directives Redis 7.0 does not know (7.2+ set listpacks); dropped before starting it. */
const UNKNOWN_TO_70 = new Set(['set-max-listpack-entries', 'set-max-listpack-value']);

/** A dataset's `config_applied`, minus what 7.0 rejects (DEBUG DIGEST depends on these thresholds). */
export function configFor70(gt: Json): Record<string, string> {
  const applied = ((gt.dataset as Json).config_applied ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(applied).filter(([k]) => !UNKNOWN_TO_70.has(k)));
}

/**
 * Starts redis-server 7.0 loading `rdbFile` as its dump.rdb, runs `fn` with a client, then stops
 * the server and removes its directory whatever happens.
 */
export async function withLoadedRdb<T>(rdbFile: string, config: Record<string, string | number>, fn: (server: TestRedis, c: RedisClient) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    copyFileSync(rdbFile, join(dir, 'dump.rdb'));
    const server = await step(`load ${rdbFile}`, startRedis({ dir, config }));
    try {
      expect(server.log()).toMatch(/DB loaded from disk/);
      const c = await server.client();
      try {
        return await fn(server, c);
      } finally {
        c.close();
      }
    } finally {
      await server.stop();
    }
  });
}

/** Runs `fn` with a fresh temp directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir();
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends every command of the keys (per db) and the functions, pipelined; fails on any error reply. */
export async function feedCommands(c: RedisClient, functions: Buffer[], keys: RdbKey[]): Promise<void> {
  const pending: Array<Promise<unknown>> = [];
  const check = (argv: Buffer[]) => (r: unknown) => {
    if (r instanceof RespError) throw new Error(`${argv.slice(0, 3).map(String).join(' ')}: ${r.message}`);
  };
  for (const code of functions) {
    const argv = functionToCommand(code);
    pending.push(c.send(...argv).then(check(argv)));
  }
  let db = -1;
  for (const k of keys) {
    if (k.db !== db) {
      db = k.db;
      pending.push(c.send('SELECT', db).then(check([Buffer.from('SELECT')])));
    }
    for (const argv of valueToCommands(k.key, k.value!, k.expireAtMs)) pending.push(c.send(...argv).then(check(argv)));
    if (pending.length > 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

/**
 * A comparable form of a value: sets and hashes sorted, -0 scores as 0 (a 7.0 listpack stores
 * them so), streams with what each path preserves (`commands`: consumers' seen/active times are
 * reset by XCLAIM/CREATECONSUMER, as with Redis's own AOF rewrite).
 */
export function normalize(v: RedisValue, mode: 'rdb' | 'commands' = 'rdb', keepActive = true): unknown {
  const hex = (b: Buffer) => b.toString('hex');
  switch (v.type) {
    case 'string':
      return ['string', hex(v.value)];
    case 'list':
      return ['list', v.value.map(hex)];
    case 'set':
      return ['set', v.value.map(hex).sort()];
    case 'zset':
      return ['zset', v.value.map(([m, s]) => [hex(m), s === 0 ? 0 : s]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))];
    case 'hash':
      return ['hash', v.value.map(([f, x]) => [hex(f), hex(x), v.expires?.get(hashFieldKey(f)) ?? null]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))];
    case 'module':
      return ['module', v.value.id.toString(), hex(v.value.raw)];
    case 'stream': {
      const s = v.value;
      const id = (x: { ms: bigint; seq: bigint }) => `${x.ms}-${x.seq}`;
      return [
        'stream',
        s.entries.map((e) => [id(e.id), e.fields.map(hex)]),
        s.length,
        id(s.lastId),
        id(s.maxDeletedId),
        s.entriesAdded.toString(),
        [...s.groups]
          .sort((a, b) => Buffer.compare(a.name, b.name))
          .map((g) => [
            hex(g.name),
            id(g.lastDeliveredId),
            g.entriesRead === null ? null : g.entriesRead.toString(),
            [...g.pel].map((p) => [id(p.id), p.deliveryTimeMs, p.deliveryCount, hex(p.consumer)]).sort(),
            [...g.consumers]
              .sort((a, b) => Buffer.compare(a.name, b.name))
              .map((c) => [hex(c.name), c.pending.map(id).sort(), ...(mode === 'rdb' ? [c.seenTimeMs, keepActive ? c.activeTimeMs : 0] : [])]),
          ]),
      ];
    }
  }
}

export interface CompareOptions {
  mode: 'rdb' | 'commands';
  /** Compare consumers' active times (false when the target format derives them from seen times). */
  keepActive?: boolean;
  /** Expect hashes without their field TTLs (a --lossy conversion for an older target). */
  withoutFieldTtls?: boolean;
  /** `keys` is a subset of the db: do not compare DBSIZE. */
  skipDbSize?: boolean;
}

/**
 * For every source key: DUMP it from the server, decode the payload, and compare it with the
 * source value. Where the source stream predates stream v2 (entries-read unknown), the server's
 * own estimate is not compared.
 */
export async function compareByDump(c: RedisClient, keys: RdbKey[], opts: CompareOptions): Promise<void> {
  const byDb = new Map<number, RdbKey[]>();
  for (const k of keys) byDb.set(k.db, [...(byDb.get(k.db) ?? []), k]);
  const keepActive = opts.keepActive ?? true;
  for (const [db, list] of byDb) {
    await c.call('SELECT', db);
    if (!opts.skipDbSize) expect(await c.send('DBSIZE'), `db ${db} size`).toBe(list.length);
    const payloads = await Promise.all(list.map((k) => c.send('DUMP', k.key)));
    for (let i = 0; i < list.length; i++) {
      const k = list[i]!;
      const where = `db ${db} key ${k.key.toString('latin1')}`;
      const p = payloads[i];
      expect(Buffer.isBuffer(p), `${where} exists`).toBe(true);
      const got = (await decodeDump(p as Buffer, `DUMP ${k.key.toString('latin1')}`)).value;
      let want = k.value!;
      if (opts.withoutFieldTtls && want.type === 'hash') want = { type: 'hash', value: want.value };
      if (want.type === 'stream' && got.type === 'stream') {
        for (const g of got.value.groups) {
          const src = want.value.groups.find((x) => x.name.equals(g.name));
          if (src && src.entriesRead === null) g.entriesRead = null;
        }
      }
      expect(normalize(got, opts.mode, keepActive), where).toEqual(normalize(want, opts.mode, keepActive));
    }
  }
}
