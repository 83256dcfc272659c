import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigKeyRdb } from '../inspect/big-key-rdb.js';
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
