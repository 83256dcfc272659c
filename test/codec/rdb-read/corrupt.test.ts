import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteSource } from '../../../src/util/byte-source.js';
import { FormatError } from '../../../src/util/errors.js';
import { CORPUS, readAll } from './corpus-helpers.js';

/** Every corrupted-RDB case is rejected where redis-check-rdb rejected it and accepted where it accepted it. */

const dir = join(CORPUS, 'rdb-corrupt');
const cases = readdirSync(dir).sort();

describe('rdb-corrupt cases agree with redis-check-rdb', () => {
  it('finds the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of cases) {
    it(name, async () => {
      const expected = JSON.parse(readFileSync(join(dir, name, 'expected.json'), 'utf8')) as { check: { exit_code: number }; mutation: string };
      const file = join(dir, name, 'input.rdb');
      if (expected.check.exit_code === 0) {
        const records = await readAll(ByteSource.fromFile(file));
        expect(records.at(-1)!.kind).toBe('eof');
        return;
      }
      const err = await readAll(ByteSource.fromFile(file)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `${name} (${expected.mutation}) must be rejected`).toBeInstanceOf(FormatError);
      const fe = err as FormatError;
      expect(fe.message.startsWith(`${file}: at byte ${fe.offset}: expected `)).toBe(true);
      expect(fe.message).not.toContain('\n');
      expect(fe.offset).toBeGreaterThanOrEqual(0);
      expect(fe.offset).toBeLessThanOrEqual(readFileSync(file).length);
    });
  }
});
