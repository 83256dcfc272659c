import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteSource } from '../../../src/util/byte-source.js';
import { FormatError, NewerVersionError } from '../../../src/util/errors.js';
import { CORPUS, keysOf, readAll } from './corpus-helpers.js';

/**
 * Every corrupted-RDB case is rejected where redis-check-rdb rejected it and accepted where it
 * accepted it — by the full decoder and by the validate-only mode rdb-check uses.
 */

const dir = join(CORPUS, 'rdb-corrupt');
const cases = readdirSync(dir).sort();

describe('rdb-corrupt cases agree with redis-check-rdb', () => {
  it('finds the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of cases) {
    for (const validateOnly of [false, true]) {
      it(`${name}${validateOnly ? ' (validate only)' : ''}`, async () => {
        const expected = JSON.parse(readFileSync(join(dir, name, 'expected.json'), 'utf8')) as { check: { exit_code: number }; mutation: string };
        const file = join(dir, name, 'input.rdb');
        const outcome = await readAll(ByteSource.fromFile(file), { validateOnly }).then(
          (records) => records,
          (e: unknown) => e,
        );
        if (expected.check.exit_code === 0) {
          expect(Array.isArray(outcome), String(outcome)).toBe(true);
          expect((outcome as Array<{ kind: string }>).at(-1)!.kind).toBe('eof');
          return;
        }
        // A version above the ones we read is refused as newer (exit 6), not as damage (see newer-version.test.ts).
        const newer = /version field set to 00(1[4-9]|[2-9]\d)/.test(expected.mutation);
        expect(outcome, `${name} (${expected.mutation}) must be rejected`).toBeInstanceOf(newer ? NewerVersionError : FormatError);
        const fe = outcome as FormatError | NewerVersionError;
        expect(fe.message.startsWith(`${file}: at byte ${fe.offset}: ${newer ? 'REDIS RDB version' : 'expected '}`)).toBe(true);
        expect(fe.message).not.toContain('\n');
        expect(fe.offset).toBeGreaterThanOrEqual(0);
        expect(fe.offset).toBeLessThanOrEqual(readFileSync(file).length);
      });
    }
  }
});

describe('validate-only mode sees the same keys as the full decoder', () => {
  const files = readdirSync(join(CORPUS, 'rdb')).flatMap((d) => readdirSync(join(CORPUS, 'rdb', d)).filter((f) => f.endsWith('.rdb')).map((f) => join(CORPUS, 'rdb', d, f)));
  it('on every corpus dataset', async () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const full = keysOf(await readAll(ByteSource.fromFile(f)));
      const checked = keysOf(await readAll(ByteSource.fromFile(f), { validateOnly: true }));
      expect(checked.map((k) => [k.db, k.rdbType, k.expireAtMs, k.offset])).toEqual(full.map((k) => [k.db, k.rdbType, k.expireAtMs, k.offset]));
      expect(checked.every((k) => k.value === undefined || k.value.type === 'module')).toBe(true);
    }
  });
});
