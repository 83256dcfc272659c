import type { RedisClient } from '../../../src/net/redis-client.js';
import { rng } from '../../engine/workload.js';

type Arg = string | Buffer | number;

/**
 * Fills a real server with every type and encoding Redis 7.0 has: int/embstr/raw and binary
 * strings, listpack and quicklist lists (small, many nodes, big elements), intsets (16/32/64-bit),
 * hashtable sets (large, mixed, strings), listpack and skiplist zsets (entries, long members,
 * integer and fractional scores), listpack and hashtable hashes (entries, long values), streams
 * (small, many nodes, deleted entries, consumer groups with PELs and several consumers), keys of
 * many lengths and prefixes, a share of them with TTLs (future ones). Pipelined.
 */
export async function fillMemoryDataset(c: RedisClient, scale = 1): Promise<number> {
  const r = rng(16);
  const int = (n: number) => Math.floor(r() * n);
  const text = (n: number) => {
    let s = '';
    while (s.length < n) s += Math.floor(r() * 36 ** 6).toString(36);
    return s.slice(0, n);
  };
  const bin = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const pad = (name: string, n: number) => (name.length >= n ? name : name + ':' + 'k'.repeat(n - name.length - 1));
  const pending: Promise<unknown>[] = [];
  let keys = 0;
  const send = async (...args: Arg[]) => {
    pending.push(c.call(...args));
    if (pending.length >= 2000) await Promise.all(pending.splice(0));
  };
  const keyName = (kind: string, i: number) => {
    const shapes = [`${kind}:${i}`, `app:${kind}:${i}`, pad(`svc|${kind}|${i}`, 44), pad(`long:${kind}:${i}`, 45 + (i % 200)), `${kind}-${i}`];
    return shapes[i % shapes.length]!;
  };
  const ttl = async (k: string, i: number) => {
    if (i % 4 === 0) await send('PEXPIRE', k, 60_000 + i * 997);
    else if (i % 7 === 0) await send('EXPIRE', k, 86_400 * (1 + (i % 9)));
  };
  const n = (x: number) => Math.max(1, Math.round(x * scale));

  // Strings: integers (shared and not), embstr, raw, binary, number-looking text.
  for (let i = 0; i < n(400); i++) {
    const k = keyName('str', i);
    const pick = i % 8;
    const v =
      pick === 0 ? String(int(20000)) : pick === 1 ? String(-int(2 ** 40)) : pick === 2 ? text(1 + int(44)) : pick === 3 ? text(45 + int(300)) :
      pick === 4 ? bin(1 + int(200)) : pick === 5 ? text(1000 + int(20000)) : pick === 6 ? `0${int(999)}` : String(2 ** 62 + int(1000) * 1024);
    await send('SET', k, v);
    await ttl(k, i);
    keys++;
  }
  for (const size of [70_000, 300_000]) {
    await send('SET', `bigstr:${size}`, text(size));
    keys++;
  }
  // Lists: small listpack-node lists, long multi-node lists, lists of big elements.
  for (let i = 0; i < n(120); i++) {
    const k = keyName('list', i);
    const len = i % 6 === 0 ? 2000 + int(8000) : i % 6 === 1 ? 5 + int(30) : 1 + int(300);
    const big = i % 10 === 3;
    for (let j = 0; j < len; j += 100) {
      const items: Arg[] = [];
      for (let m = j; m < Math.min(len, j + 100); m++) items.push(big ? text(3000 + int(6000)) : m % 3 === 0 ? String(int(100000)) : text(1 + int(i % 5 === 0 ? 120 : 20)));
      await send('RPUSH', k, ...items);
    }
    await ttl(k, i);
    keys++;
  }
  // Sets: intsets of each width, hashtable sets (large ints, strings, mixed).
  for (let i = 0; i < n(120); i++) {
    const k = keyName('set', i);
    const kind = i % 6;
    const len = kind === 3 ? 600 + int(3000) : 1 + int(200);
    const members = new Set<string>();
    while (members.size < len) {
      members.add(
        kind === 0 ? String(int(30000)) : kind === 1 ? String(int(2 ** 31)) : kind === 2 ? String(2 ** 40 + int(2 ** 40)) : kind === 3 ? String(int(10 ** 7)) :
        kind === 4 ? text(1 + int(40)) : members.size === 0 ? String(int(500)) : members.size % 2 ? text(5) : String(int(100000)),
      );
    }
    const all = [...members];
    for (let j = 0; j < all.length; j += 200) await send('SADD', k, ...all.slice(j, j + 200));
    await ttl(k, i);
    keys++;
  }
  // Sorted sets: listpacks, skiplists by count and by member length; integer and fractional scores.
  for (let i = 0; i < n(120); i++) {
    const k = keyName('zset', i);
    const kind = i % 4;
    const len = kind === 1 ? 129 + int(3000) : 1 + int(120);
    const args: Arg[] = [];
    for (let j = 0; j < len; j++) {
      const score = j % 3 === 0 ? int(1000) : j % 3 === 1 ? r() * 1000 : -int(1e6) / 8;
      const member = kind === 2 && j === len - 1 ? text(65 + int(100)) : j % 4 === 0 ? String(j) : `${text(3 + int(20))}${j}`;
      args.push(score, member);
      if (args.length >= 400) await send('ZADD', k, ...args.splice(0));
    }
    if (args.length) await send('ZADD', k, ...args);
    await ttl(k, i);
    keys++;
  }
  // Hashes: listpacks, hashtables by count and by value length.
  for (let i = 0; i < n(120); i++) {
    const k = keyName('hash', i);
    const kind = i % 4;
    const len = kind === 1 ? 129 + int(2000) : 1 + int(120);
    const args: Arg[] = [];
    for (let j = 0; j < len; j++) {
      const value = kind === 2 && j === Math.floor(len / 2) ? text(65 + int(500)) : j % 3 === 0 ? String(int(1e9)) : text(1 + int(40));
      args.push(`field:${j}:${text(int(10))}`, value);
      if (args.length >= 400) await send('HSET', k, ...args.splice(0));
    }
    if (args.length) await send('HSET', k, ...args);
    await ttl(k, i);
    keys++;
  }
  // Streams: one entry, many nodes, deleted entries, groups with pending entries and consumers.
  for (let i = 0; i < n(40); i++) {
    const k = keyName('stream', i);
    const len = i % 4 === 0 ? 1 : i % 4 === 1 ? 500 + int(3000) : 10 + int(200);
    for (let j = 0; j < len; j++) {
      const fields: Arg[] = j % 50 === 0 ? ['user', String(j), 'action', text(5 + int(30)), 'extra', text(int(60))] : ['user', String(j), 'action', text(5 + int(30))];
      await send('XADD', k, '*', ...fields);
    }
    if (i % 3 !== 0) {
      await send('XGROUP', 'CREATE', k, 'g1', '0');
      await send('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', Math.ceil(len / 3), 'STREAMS', k, '>');
      await send('XREADGROUP', 'GROUP', 'g1', `bob-${text(4)}`, 'COUNT', Math.ceil(len / 5), 'STREAMS', k, '>');
      if (i % 2 === 0) {
        await send('XGROUP', 'CREATE', k, 'g2', '$');
        await send('XGROUP', 'CREATECONSUMER', k, 'g2', 'idle');
      }
    }
    if (i % 5 === 2 && len > 20) await send('XTRIM', k, 'MAXLEN', Math.floor(len / 2));
    await ttl(k, i);
    keys++;
  }
  await Promise.all(pending);
  return keys;
}
