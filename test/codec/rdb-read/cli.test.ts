import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CORPUS } from './corpus-helpers.js';

/** rdb-check / rdb-dump as an operator runs them: `node bin/tsredis-ops.js` (built by `npm test`). */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const v74 = join(CORPUS, 'rdb/redis-7.4.1/redis-7.4.1_s1_low.rdb');
const gt74 = JSON.parse(readFileSync(v74.replace(/\.rdb$/, '.json'), 'utf8')) as { key_counts: Record<string, number>; keys: Array<Record<string, unknown>> };

describe('rdb-check CLI', () => {
  it('reports a valid file and exits 0', () => {
    const r = run('rdb-check', v74);
    expect(r.code).toBe(0);
    expect(r.out).toContain('format: REDIS RDB version 12');
    expect(r.out).toContain('redis-ver = 7.4.1');
    expect(r.out).toMatch(/db 0: 150 keys/);
    expect(r.out).toContain('functions: 1 library: corpuslib1 (lua)');
    expect(r.out).toMatch(/checksum: OK \(0x[0-9a-f]{16}\)/);
    expect(r.err).toBe('');
  });

  it('prints one JSON object with --json', () => {
    const r = run('rdb-check', v74, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { valid: boolean; rdbVersion: number; totalKeys: number; checksum: string; aux: Record<string, string>; databases: Array<{ db: number; keys: number; expiring: number; types: Record<string, number> }>; functions: Array<{ library: string }> };
    expect(j.valid).toBe(true);
    expect(j.rdbVersion).toBe(12);
    expect(j.checksum).toBe('ok');
    expect(j.aux['redis-ver']).toBe('7.4.1');
    expect(Object.fromEntries(j.databases.map((d) => [String(d.db), d.keys]))).toEqual(gt74.key_counts);
    expect(j.databases.reduce((n, d) => n + d.expiring, 0)).toBe(gt74.keys.filter((k) => k.expire_at_ms !== null).length);
    expect(j.databases[0]!.types.stream).toBe(gt74.keys.filter((k) => k.db === 0 && k.type === 'stream').length);
    expect(j.functions.map((f) => f.library)).toEqual(['corpuslib1']);
  });

  it('exits 1 with one line naming file, offset and expectation on every corrupt case', () => {
    for (const c of ['rdb70_truncated', 'rdb70_bad-checksum', 'rdb70_bad-magic', 'rdb74s1low_flipped-byte', 'rdb70_truncated-no-eof']) {
      const r = run('rdb-check', join(CORPUS, 'rdb-corrupt', c, 'input.rdb'));
      expect(r.code, c).toBe(1);
      expect(r.err.trim().split('\n'), c).toHaveLength(1);
      expect(r.err, c).toMatch(/^tsredis-ops: .*input\.rdb: at byte \d+: expected /);
      expect(r.out, c).toBe('');
    }
    const j = run('rdb-check', '--json', join(CORPUS, 'rdb-corrupt/rdb70_truncated/input.rdb'));
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ valid: false, error: { offset: 99649 } });
  });

  it('exits 0 on the valid corrupt-set controls, 2 on usage errors, 3 on a missing file', () => {
    expect(run('rdb-check', join(CORPUS, 'rdb-corrupt/rdb70_valid/input.rdb')).code).toBe(0);
    expect(run('rdb-check').code).toBe(2);
    expect(run('rdb-check', v74, '--bogus').code).toBe(2);
    expect(run('rdb-dump', v74, '--format', 'xml').code).toBe(2);
    expect(run('rdb-dump', v74, '--db', 'x').code).toBe(2);
    const missing = run('rdb-check', '/nonexistent/dump.rdb');
    expect(missing.code).toBe(3);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('rdb-dump CLI', () => {
  it('prints every key in the ground-truth shape with --encoding base64', () => {
    const r = run('rdb-dump', v74, '--encoding', 'base64');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const keys = lines.filter((l) => 'key' in l);
    expect(keys).toHaveLength(gt74.keys.length);
    expect(lines.filter((l) => 'function' in l)).toHaveLength(1);
    const byKey = new Map(gt74.keys.map((k) => [`${String(k.db)}/${String(k.key)}`, k]));
    for (const k of keys) {
      expect(Object.keys(k).filter((f) => f !== 'key_base64')).toEqual(['db', 'key', 'type', 'expire_at_ms', 'value']);
      const g = byKey.get(`${String(k.db)}/${String(k.key)}`)!;
      expect(k.type).toBe(g.type);
      if (g.type === 'list' || (g.type === 'string' && typeof g.value === 'string')) expect(k.value).toEqual(g.value);
    }
  });

  it('filters by --db, --type and --match', () => {
    const lines = (args: string[]): Array<Record<string, unknown>> =>
      run('rdb-dump', v74, ...args).out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'key' in l);
    expect(lines(['--db', '1'])).toHaveLength(gt74.key_counts['1']!);
    const hashes = lines(['--type', 'hash']);
    expect(hashes.length).toBe(gt74.keys.filter((k) => k.type === 'hash').length);
    const streams = lines(['--match', 'stream:*', '--db', '0']);
    expect(streams.map((l) => l.key).sort()).toEqual(gt74.keys.filter((k) => k.db === 0 && String(k.key).startsWith('stream:')).map((k) => k.key).sort());
    expect(lines(['--match', 'no-such-key-[xyz]?'])).toEqual([]);
  });

  it('prints utf8 text, and base64 objects for bytes that are not UTF-8', () => {
    const r = run('rdb-dump', v74, '--match', 'set:bin');
    const line = JSON.parse(r.out.trim().split('\n').find((l) => l.includes('"set:bin"'))!) as { value: unknown[] };
    expect(line.value).toContainEqual({ base64: '//4=' });
    expect(line.value).toContain('');
  });
});
