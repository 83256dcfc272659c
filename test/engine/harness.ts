import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import type { RedisValue } from '../../src/codec/rdb/model.js';
import { decodeDump } from '../../src/codec/rdb/dump.js';
import { RespError, type RespValue } from '../../src/codec/resp/types.js';
import type { RedisClient } from '../../src/net/redis-client.js';
import { Keyspace } from '../../src/engine/keyspace.js';
import { CommandError } from '../../src/engine/errors.js';

/** A JSON-comparable form of a value; times left out unless asked (they depend on when commands ran). */
export function normalize(v: RedisValue, times = false): unknown {
  const b = (x: Buffer): string => x.toString('base64');
  switch (v.type) {
    case 'string':
      return { string: b(v.value) };
    case 'list':
      return { list: v.value.map(b) };
    case 'set':
      return { set: v.value.map(b).sort() };
    case 'zset':
      return { zset: v.value.map(([m, s]) => [b(m), String(s)]) };
    case 'hash':
      return {
        hash: v.value
          .map(([f, val]) => [b(f), b(val), v.expires?.get(f.toString('latin1')) ?? null])
          .sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
      };
    case 'stream': {
      const s = v.value;
      const id = (i: { ms: bigint; seq: bigint }): string => `${i.ms}-${i.seq}`;
      return {
        stream: {
          entries: s.entries.map((e) => [id(e.id), e.fields.map(b)]),
          length: s.length,
          lastId: id(s.lastId),
          firstId: id(s.firstId),
          maxDeletedId: id(s.maxDeletedId),
          entriesAdded: String(s.entriesAdded),
          groups: s.groups.map((g) => ({
            name: b(g.name),
            lastId: id(g.lastDeliveredId),
            entriesRead: g.entriesRead === null ? null : String(g.entriesRead),
            pel: g.pel.map((p) => [id(p.id), b(p.consumer), p.deliveryCount, times ? p.deliveryTimeMs : 0]),
            consumers: g.consumers.map((c) => [b(c.name), c.pending.map(id)]),
          })),
        },
      };
    }
    case 'module':
      return { module: v.value.name };
  }
}

export interface KeyDump {
  value: unknown;
  expireAt: number | null;
}

function asBuf(v: RespValue): Buffer {
  if (Buffer.isBuffer(v)) return v;
  throw new Error(`expected a bulk reply, got ${String(v)}`);
}

/** Every key of every db of a live server, via DUMP decoded by our codec, plus PEXPIRETIME. */
export async function serverKeys(c: RedisClient, dbs = 16, times = false): Promise<Map<string, KeyDump>> {
  const out = new Map<string, KeyDump>();
  for (let db = 0; db < dbs; db++) {
    await c.call('SELECT', db);
    let cursor = '0';
    do {
      const [next, keys] = (await c.call('SCAN', cursor, 'COUNT', 1000)) as [Buffer, Buffer[]];
      cursor = next.toString();
      for (const k of keys) {
        const dump = asBuf(await c.call('DUMP', k));
        const exp = Number(await c.call('PEXPIRETIME', k));
        const { value } = await decodeDump(dump);
        out.set(`${db}:${k.toString('base64')}`, { value: normalize(value, times), expireAt: exp < 0 ? null : exp });
      }
    } while (cursor !== '0');
  }
  await c.call('SELECT', 0);
  return out;
}

export function engineKeys(ks: Keyspace, times = false): Map<string, KeyDump> {
  const out = new Map<string, KeyDump>();
  for (const k of ks.keys(null)) out.set(`${k.db}:${k.key.toString('base64')}`, { value: normalize(k.value!, times), expireAt: k.expireAtMs });
  return out;
}

/** Asserts both keyspaces hold the same keys with the same values; a mismatch names the key. */
export function expectSameKeys(server: Map<string, KeyDump>, engine: Map<string, KeyDump>): void {
  const name = (k: string): string => {
    const [db, b64] = k.split(':') as [string, string];
    return `db${db} "${Buffer.from(b64, 'base64').toString('latin1')}"`;
  };
  const all = [...new Set([...server.keys(), ...engine.keys()])].sort();
  for (const k of all) {
    expect(engine.get(k), `key ${name(k)} in the engine`).toEqual(server.get(k));
  }
}

/**
 * Sends each command to the server and applies it to the engine; both must agree on whether the
 * command failed (Redis's error reply vs the engine's CommandError).
 */
export async function runBoth(c: RedisClient, ks: Keyspace, cmds: Array<Array<string | Buffer | number>>): Promise<void> {
  for (const cmd of cmds) {
    const argv = cmd.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a))));
    const reply = await c.send(...argv);
    let engineError: string | null = null;
    try {
      await ks.applyAsync(argv);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      engineError = e.message;
    }
    const serverError = reply instanceof RespError ? reply.message : null;
    expect({ cmd: cmd.map(String).join(' '), failed: engineError !== null }, `engine error: ${engineError}; server: ${serverError}`).toEqual({
      cmd: cmd.map(String).join(' '),
      failed: serverError !== null,
    });
  }
}

export async function expectSameAsServer(c: RedisClient, ks: Keyspace, times = false): Promise<void> {
  expectSameKeys(await serverKeys(c, 16, times), engineKeys(ks, times));
}

/**
 * One redis-server 7.0 per test file, flushed (data and functions) before each test, and a fresh
 * engine per test: `env.c` and `env.ks` are valid inside tests.
 */
export function liveServerAndEngine(): { c: RedisClient; ks: Keyspace } {
  const env = {} as { c: RedisClient; ks: Keyspace };
  beforeAll(async () => {
    env.c = await (await startRedis()).client();
  });
  afterAll(async () => {
    env.c.close();
    await stopAllRedis();
  });
  beforeEach(async () => {
    await env.c.call('FLUSHALL');
    await env.c.call('FUNCTION', 'FLUSH');
    await env.c.call('SELECT', 0);
    env.ks = new Keyspace();
  });
  return env;
}
