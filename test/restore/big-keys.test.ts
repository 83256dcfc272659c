import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigKeyRdb } from '../inspect/big-key-rdb.js';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { framePayload } from '../../src/restore/dump-payload.js';
import { KeySender } from '../../src/restore/key-sender.js';
import { NodePool } from '../../src/restore/node-pool.js';
import { dumpPrint } from '../../src/restore/content-print.js';
import { LiveChecks } from '../../src/restore/verify.js';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { cli, tempDir } from './helpers.js';

/**
 * Online restore of big keys (a 1M-element list, 200k-member zset/hash/set, a stream with a
 * consumer group: bulk and array replies on the pipeline) above --big-key-size:
 * rebuilt with commands made from the stored bytes; the target's DEBUG DIGEST is the source's and
 * --verify passes.
 */

afterAll(stopAllRedis);

let rdb: string;
let digest: string;
beforeAll(async () => {
  const made = await bigKeyRdb();
  rdb = join(tempDir(), 'big.rdb');
  writeFileSync(rdb, made.rdb);
  digest = made.digest;
}, 60_000);

interface Report {
  plan: { keys: number; bigKeys: number };
  result: { restored: number; asCommands: number; failed: number; problems: unknown[] };
  verify: { ok: boolean; checked: number; mismatched: number };
}

describe('restore --to with big keys', () => {
  it('rebuilds keys above --big-key-size with commands from the stored bytes; same digest, --verify passes', async () => {
    const target = await startRedis();
    const r = cli(['restore', rdb, '--to', target.url, '--big-key-size', '100000', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.result).toMatchObject({ restored: 6, asCommands: 5, failed: 0, problems: [] });
    expect(rep.verify).toMatchObject({ ok: true, checked: 6, mismatched: 0 });
    expect(await debugDigest(target)).toBe(digest);

    // Again: every key exists (EXISTS on the pipeline, nothing written); with --replace, DEL then the commands.
    const again = JSON.parse(cli(['restore', rdb, '--to', target.url, '--big-key-size', '100000', '--json']).stdout) as Report & { result: { conflicts: number } };
    expect(again.result).toMatchObject({ restored: 0, conflicts: 6 });
    const replaced = cli(['restore', rdb, '--to', target.url, '--big-key-size', '100000', '--replace', '--json']);
    expect((JSON.parse(replaced.stdout) as Report).result).toMatchObject({ restored: 6, asCommands: 5, failed: 0 });
    expect(await debugDigest(target)).toBe(digest);
  }, 180_000);
});

describe('restore --verify checks pipelined behind the writes', () => {
  it('compare a big key by the content print of its DUMP, for RESTORE and for streamed commands; a DUMP of many reads pieces', async () => {
    const target = await startRedis();
    const c = await target.client();
    // 300k elements: the DUMP reply (about 2 MB) comes in many socket reads.
    const items = Array.from({ length: 300_000 }, (_, i) => `e${i}`);
    for (let i = 0; i < items.length; i += 10_000) await c.call('RPUSH', 'src', ...items.slice(i, i + 10_000));
    const payload = (await c.call('DUMP', 'src')) as Buffer;
    expect(payload.length).toBeGreaterThan(1 << 20);
    const print = (await dumpPrint([payload], 'DUMP'))!;
    await c.call('SET', 'taken', 'theirs');
    c.close();
    const pool = new NodePool(parseRedisUrl(target.url, { env: {} }), 1);
    const checks = new LiveChecks(true);
    const sender = new KeySender(pool, null, { window: 64, replace: false, checks });
    const other = print.replace(/content [0-9a-f]+/, 'content 0123456789abcdef');
    const job = (key: string, want: string) => ({ db: 0, key: Buffer.from(key), expireAtMs: null, payload, bytes: payload.length, check: { want: null, print: want, expireAtMs: null } });
    for (const j of [job('same', print), job('other', other), job('taken', other)]) {
      const q = sender.submit(j);
      if (q) await q;
    }
    const st = sender.streamKey({ db: 0, key: Buffer.from('cmds'), expireAtMs: null, bytes: 0, check: { want: null, print, expireAtMs: null } });
    for (let i = 0; i < items.length; i += 64) st.write(encodeCommand(['RPUSH', 'cmds', ...items.slice(i, i + 64)]));
    await st.end();
    const short = sender.streamKey({ db: 0, key: Buffer.from('short'), expireAtMs: null, bytes: 0, check: { want: null, print, expireAtMs: null } });
    short.write(encodeCommand(['RPUSH', 'short', ...items.slice(1, 64)]));
    await short.end();
    await sender.drain();
    const report = await checks.report({ pool, masters: [pool.seedAddress], plan: { dbs: [], keys: 0 } as never, skip: new Set() });
    await pool.close();
    expect(sender.stats).toMatchObject({ restored: 4, conflicts: 1 });
    expect(report).toMatchObject({ checked: 4, byContent: 4, mismatched: 2 });
    expect(checks.mismatches).toEqual([
      { db: 0, key: 'other', reason: `DUMP holds ${print}, expected ${other}` },
      { db: 0, key: 'short', reason: expect.stringMatching(/^DUMP holds list of 63 elements, content [0-9a-f]{16}, expected list of 300000 elements/) as unknown as string },
    ]);
  }, 60_000);

  it('report a key whose DIGEST-VALUE or TTL differs from the expected, for RESTORE and for streamed commands; conflicts are not judged', async () => {
    const target = await startRedis();
    const c = await target.client();
    await c.call('SET', 'taken', 'theirs');
    await c.call('SET', 'x', 'v');
    const right = String(await c.call('DEBUG', 'DIGEST-VALUE', 'x'));
    await c.call('PEXPIREAT', 'x', 4102444800000);
    const rightTtl = String(await c.call('DEBUG', 'DIGEST-VALUE', 'x'));
    await c.call('DEL', 'x');
    c.close();
    const pool = new NodePool(parseRedisUrl(target.url, { env: {} }), 1);
    const checks = new LiveChecks(true);
    const sender = new KeySender(pool, null, { window: 64, replace: false, checks });
    const wrong = '0123456789012345678901234567890123456789';
    // A string "v" as a DUMP payload for RDB 10 (type 0, length-prefixed bytes).
    const payload = framePayload(0, Buffer.from([1, 0x76]), 10);
    const job = (key: string, want: string[], expireAtMs: number | null = null) => ({ db: 0, key: Buffer.from(key), expireAtMs, payload, bytes: 13, check: { want, print: null, expireAtMs } });
    for (const j of [job('ok', [right]), job('bad', [wrong]), job('ttl', [rightTtl], 4102444800000), job('taken', [wrong])]) {
      const q = sender.submit(j);
      if (q) await q;
    }
    // The same through a stream of commands: the expiry the check expects is not the one written.
    const st = sender.streamKey({ db: 0, key: Buffer.from('cmd'), expireAtMs: null, bytes: 0, check: { want: [right], print: null, expireAtMs: 4102444800000 } });
    st.write(encodeCommand(['SET', 'cmd', 'v']));
    await st.end();
    await sender.drain();
    await pool.close();
    // "ttl" was written with its expiry (RESTORE ... ABSTTL): equal. "taken" is a conflict: not judged.
    expect(sender.stats).toMatchObject({ restored: 4, conflicts: 1 });
    expect(checks.checked).toBe(4);
    expect(checks.mismatches).toEqual([
      { db: 0, key: 'bad', reason: `DEBUG DIGEST-VALUE ${right}, expected ${wrong}` },
      { db: 0, key: 'cmd', reason: 'expires at -1, expected 4102444800000' },
    ]);
  }, 60_000);
});
