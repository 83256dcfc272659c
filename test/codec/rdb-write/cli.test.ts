import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDump, encodeDump } from '../../../src/codec/rdb/dump.js';
import { crc64 } from '../../../src/codec/rdb/crc64.js';
import type { RedisValue } from '../../../src/codec/rdb/model.js';
import { FormatError } from '../../../src/util/errors.js';
import { CORPUS } from '../rdb-read/corpus-helpers.js';
import { ROOT, cli, withTempDir } from './helpers.js';

/** rdb-convert's operator contract: exit codes, one-line errors, atomic output, stdin input. */

const SOURCE = `${CORPUS}rdb/redis-7.0.15-debian/redis-7.0.15-debian_s1_default.rdb`;

describe('rdb-convert CLI', () => {
  it('rejects a corrupt input with one line naming file and offset, leaving nothing behind', async () => {
    await withTempDir(async (dir) => {
      for (const c of ['rdb70_flipped-byte', 'rdb70_truncated', 'rdb70_bad-checksum']) {
        const input = `${CORPUS}rdb-corrupt/${c}/input.rdb`;
        const r = cli(['rdb-convert', input, '-o', join(dir, 'out.rdb'), '--rdb-version', '10']);
        expect(r.status, c).toBe(1);
        expect(r.stderr, c).toMatch(new RegExp(`^tsredis-ops: ${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: at byte \\d+: expected .+\\n$`));
        expect(readdirSync(dir), c).toEqual([]);
      }
    });
  });

  it('refuses to overwrite OUT without --force, or the input itself (exit 5)', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'out.rdb');
      writeFileSync(out, 'keep me');
      const r = cli(['rdb-convert', SOURCE, '-o', out, '--rdb-version', '10']);
      expect([r.status, r.stderr]).toEqual([5, `tsredis-ops: ${out}: exists; use --force to replace it\n`]);
      expect(readFileSync(out, 'utf8')).toBe('keep me');
      expect(cli(['rdb-convert', SOURCE, '-o', out, '--rdb-version', '10', '--force']).status).toBe(0);
      expect(readFileSync(out).subarray(0, 9).toString()).toBe('REDIS0010');
      const self = cli(['rdb-convert', out, '-o', out, '--rdb-version', '9', '--force']);
      expect(self.status).toBe(5);
      expect(self.stderr).toMatch(/refusing to write over the input/);
    });
  });

  it('rejects unknown target versions as a usage error (exit 2)', () => {
    const r = cli(['rdb-convert', SOURCE, '-o', '/tmp/never-written.rdb', '--rdb-version', '8']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--rdb-version/);
    expect(existsSync('/tmp/never-written.rdb')).toBe(false);
  });

  it('reads standard input and converts a 7.0 file to 9 only with --lossy (functions)', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'v9.rdb');
      const run = (extra: string[]) =>
        spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), 'rdb-convert', '-', '-o', out, '--rdb-version', '9', ...extra], { input: readFileSync(SOURCE), encoding: 'utf8' });
      const strict = run([]);
      expect(strict.status).toBe(1);
      expect(strict.stderr).toBe('tsredis-ops: file: RDB 9 cannot represent function library "corpuslib1"; use --lossy to drop it\n');
      const lossy = run(['--lossy']);
      expect(lossy.status).toBe(0);
      expect(lossy.stdout).toContain('dropped: function library "corpuslib1" (RDB 9 has no functions)');
      expect(readFileSync(out).subarray(0, 9).toString()).toBe('REDIS0009');
    });
  });
});

describe('decodeDump on damaged payloads', () => {
  it('only ever returns a value or throws a FormatError with an offset inside the payload', async () => {
    const values: RedisValue[] = [
      { type: 'hash', value: Array.from({ length: 10 }, (_, i): [Buffer, Buffer] => [Buffer.from(`f${i}`), Buffer.from(`value-${i}`)]) },
      { type: 'zset', value: [[Buffer.from('a'), 1.5], [Buffer.from('b'), 2]] },
      { type: 'list', value: [Buffer.from('x'.repeat(40)), Buffer.from('12')] },
      {
        type: 'stream',
        value: {
          entries: [{ id: { ms: 5n, seq: 1n }, fields: [Buffer.from('f'), Buffer.from('v')] }],
          length: 1, lastId: { ms: 5n, seq: 1n }, firstId: { ms: 5n, seq: 1n }, maxDeletedId: { ms: 0n, seq: 0n }, entriesAdded: 1n,
          groups: [{ name: Buffer.from('g'), lastDeliveredId: { ms: 5n, seq: 1n }, entriesRead: 1n, pel: [{ id: { ms: 5n, seq: 1n }, deliveryTimeMs: 1, deliveryCount: 1, consumer: Buffer.from('c') }], consumers: [{ name: Buffer.from('c'), seenTimeMs: 1, activeTimeMs: 1, pending: [{ ms: 5n, seq: 1n }] }] }],
        },
      },
    ];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    let rejected = 0;
    for (const v of values) {
      const good = encodeDump(v, 10);
      for (let t = 0; t < 300; t++) {
        const body = Buffer.from(good.subarray(0, good.length - 8));
        const flips = 1 + rnd(3);
        for (let f = 0; f < flips; f++) body[rnd(body.length - 2)] = rnd(256);
        const payload = Buffer.concat([body, Buffer.alloc(8)]);
        payload.writeBigUInt64LE(crc64(body), body.length);
        try {
          await decodeDump(payload, 'p');
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
          expect((e as FormatError).offset).toBeGreaterThanOrEqual(0);
          expect((e as FormatError).offset).toBeLessThanOrEqual(payload.length);
          expect((e as Error).message).not.toMatch(/\n/);
          rejected++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});
