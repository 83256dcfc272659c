import { parse } from 'csv-parse/sync';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../backup/cli-helper.js';
import { startRedis, stopAllRedis, type TestRedis } from '../../helpers/redis-server.js';
import { fillMemoryDataset } from './dataset.js';

let work: string;
let rdb: string;
let server: TestRedis;
let keys: number;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-memory-'));
  server = await startRedis();
  const c = await server.client();
  keys = await fillMemoryDataset(c, 0.5);
  await c.call('SAVE');
  c.close();
  rdb = join(work, 'dump.rdb');
  copyFileSync(join(server.dir, 'dump.rdb'), rdb);
}, 120_000);

afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

interface Report {
  keys: number;
  bytes: number;
  byType: Array<{ name: string; keys: number; bytes: number; share: number }>;
  byDb: Array<{ name: string; keys: number; bytes: number }>;
  topByBytes: Array<{ key: string; bytes: number }>;
  prefixes: Array<{ prefix: string; keys: number; bytes: number }>;
  ttl: Array<{ bucket: string; keys: number; bytes: number }>;
  bigKeys: Array<{ key: string; reasons: string[] }>;
  bigKeysTotal: number;
  model: string;
}

describe('rdb-memory CLI', { timeout: 120_000 }, () => {
  it('text, --json and --csv agree: the CSV parses and its sums are the totals', async () => {
    const text = await cli(['rdb-memory', rdb, '--top', '5']);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const json = await cli(['rdb-memory', rdb, '--top', '5', '--json']);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as Report;
    expect(r.keys).toBe(keys);
    expect(r.model).toBe('7.0');
    expect(text.stdout).toContain(`total: ${keys.toLocaleString('en-US')} keys, ${r.bytes} bytes`);
    expect(r.topByBytes).toHaveLength(5);
    expect(r.topByBytes[0]!.bytes).toBeGreaterThanOrEqual(r.topByBytes[4]!.bytes);

    const csv = await cli(['rdb-memory', rdb, '--csv']);
    expect(csv.code).toBe(0);
    const rows = parse(csv.stdout, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(['database', 'type', 'key', 'size_in_bytes', 'encoding', 'num_elements', 'len_largest_element', 'expiry']);
    expect(rows).toHaveLength(keys);
    const sum = rows.reduce((s, x) => s + Number(x.size_in_bytes), 0);
    expect(sum).toBe(r.bytes);
    for (const t of r.byType) {
      const ofType = rows.filter((x) => x.type === t.name);
      expect(ofType.length).toBe(t.keys);
      expect(ofType.reduce((s, x) => s + Number(x.size_in_bytes), 0)).toBe(t.bytes);
    }
    // The text report prints the same per-type bytes.
    for (const t of r.byType) expect(text.stdout).toMatch(new RegExp(`\\n  ${t.name} +${t.keys} +${t.bytes} `));
    const withTtl = rows.filter((x) => x.expiry !== '');
    expect(withTtl.length).toBe(r.ttl.filter((b) => b.bucket !== 'none').reduce((s, b) => s + b.keys, 0));
    expect(Number.isNaN(Date.parse(withTtl[0]!.expiry!))).toBe(false);
    // A binary key survives as \xHH text and a key with a comma would be quoted: the parser took every row.
    expect(rows.every((x) => x.database === '0')).toBe(true);
  });

  it('prefixes, TTL buckets and big-key warnings', async () => {
    const r = JSON.parse((await cli(['rdb-memory', rdb, '--json', '--separators', ':|', '--depth', '2', '--big-key-elements', '1000', '--big-key-bytes', '100000'])).stdout) as Report;
    const app = r.prefixes.find((p) => p.prefix === 'app:')!;
    expect(app.keys).toBeGreaterThan(0);
    const appChildren = r.prefixes.filter((p) => p.prefix.startsWith('app:') && p.prefix !== 'app:');
    expect(appChildren.reduce((s, p) => s + p.keys, 0)).toBe(app.keys);
    expect(r.prefixes.some((p) => p.prefix === 'svc|')).toBe(true);
    expect(r.ttl.map((b) => b.bucket)).toEqual(['none', 'expired', '<1h', '<1d', '<7d', '>=7d']);
    expect(r.ttl.reduce((s, b) => s + b.keys, 0)).toBe(r.keys);
    expect(r.ttl.find((b) => b.bucket === '<1h')!.keys).toBeGreaterThan(0);
    expect(r.bigKeysTotal).toBeGreaterThan(0);
    expect(r.bigKeys.some((b) => b.reasons.some((x) => x.includes('UNLINK')))).toBe(true);
    expect(r.bigKeys.some((b) => b.key === 'bigstr:300000' && b.reasons.some((x) => x.includes('--big-key-bytes')))).toBe(true);
  });

  it('a tiny prefix cap folds the smallest branches and says so', async () => {
    const r = JSON.parse((await cli(['rdb-memory', rdb, '--json', '--max-prefixes', '20'])).stdout) as Report & { prefixesFolded: { branches: number; keys: number } };
    expect(r.prefixesFolded.branches).toBeGreaterThan(0);
    expect(r.prefixes.length).toBeLessThanOrEqual(50);
    const text = await cli(['rdb-memory', rdb, '--max-prefixes', '20']);
    expect(text.stdout).toMatch(/folded to stay bounded: \d+ smallest branches/);
  });

  it('reads a live node over the replication protocol and standard input, with the same totals', async () => {
    const file = JSON.parse((await cli(['rdb-memory', rdb, '--json'])).stdout) as Report;
    const live = await cli(['rdb-memory', server.url, '--json']);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    const l = JSON.parse(live.stdout) as Report;
    expect(l.keys).toBe(file.keys);
    expect(l.bytes).toBe(file.bytes);
    // A password in the URL (accepted, warned about) never shows in the report.
    const withPass = await cli(['rdb-memory', server.url.replace('redis://', 'redis://default:sesame@'), '--json']);
    expect(withPass.code).toBe(0);
    expect(withPass.stdout).not.toContain('sesame');
    expect((JSON.parse(withPass.stdout) as { source: string }).source).toContain('***');
    const piped = await cli(['rdb-memory', '-', '--json'], { input: readFileSync(rdb) });
    expect((JSON.parse(piped.stdout) as Report).bytes).toBe(file.bytes);
  });

  it('reads an encrypted backup from a store with the passphrase options of restore', async () => {
    const dir = join(work, 'store');
    const pass = join(work, 'pass');
    writeFileSync(pass, 'a good long passphrase\n');
    const b = await cli(['backup', '--from', rdb, '--to', dir, '--passphrase-file', pass, '--name', 'main', '--json']);
    expect(b.code).toBe(0);
    const file = JSON.parse((await cli(['rdb-memory', rdb, '--json'])).stdout) as Report;
    const r = await cli(['rdb-memory', '--from', dir, '--latest', '--passphrase-file', pass, '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).bytes).toBe(file.bytes);
    const wrong = join(work, 'wrong');
    writeFileSync(wrong, 'not the passphrase\n');
    const w = await cli(['rdb-memory', '--from', dir, '--latest', '--passphrase-file', wrong]);
    expect(w.code).toBe(4);
    expect(w.stderr).not.toContain('a good long passphrase');
  });

  it('exit codes: usage 2, missing file 3, damaged RDB 1 with the offset, --redis-version changes the model', async () => {
    expect((await cli(['rdb-memory'])).code).toBe(2);
    expect((await cli(['rdb-memory', rdb, '--json', '--csv'])).code).toBe(2);
    expect((await cli(['rdb-memory', rdb, '--redis-version', 'banana'])).code).toBe(2);
    const missing = await cli(['rdb-memory', join(work, 'nope.rdb')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const bad = Buffer.from(readFileSync(rdb));
    bad[Math.floor(bad.length / 2)] ^= 0xff;
    bad[Math.floor(bad.length / 2) + 1] ^= 0xff;
    const badFile = join(work, 'bad.rdb');
    writeFileSync(badFile, bad);
    const r = await cli(['rdb-memory', badFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.rdb.*(byte|offset) \d+/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const v62 = JSON.parse((await cli(['rdb-memory', rdb, '--json', '--redis-version', '6.2'])).stdout) as Report & { byEncoding: Array<{ name: string }> };
    expect(v62.model).toBe('6.2');
    expect(v62.byEncoding.some((e) => e.name === 'hash/ziplist')).toBe(true);
  });
});
