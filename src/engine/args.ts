import { CommandError } from './errors.js';
import { mustInt } from './numbers.js';

/** A command argument as an upper-case option name (Redis compares options case-insensitively). */
export function upper(b: Buffer): string {
  return b.toString('latin1').toUpperCase();
}

/** The optional count of LPOP/RPOP/ZPOPMIN/ZPOPMAX key [count] (1 when absent). */
export function popCount(argv: Buffer[]): number {
  if (argv.length > 3) throw new CommandError('ERR syntax error');
  if (argv.length < 3) return 1;
  const count = mustInt(argv[2]!, 'ERR value is out of range, must be positive');
  if (count < 0) throw new CommandError('ERR value is out of range, must be positive');
  return count;
}

/**
 * LMPOP / ZMPOP arguments from `at`: numkeys key... WHERE [COUNT n]; `where` lists the two
 * accepted words. Returns the keys, which word was given, and the count.
 */
export function mpopArgs(argv: Buffer[], at: number, where: [string, string]): { keys: Buffer[]; first: boolean; count: number } {
  const numkeys = mustInt(argv[at]!);
  if (numkeys <= 0 || at + 1 + numkeys >= argv.length) throw new CommandError('ERR numkeys should be greater than 0');
  const keys = argv.slice(at + 1, at + 1 + numkeys);
  const w = upper(argv[at + 1 + numkeys]!);
  if (w !== where[0] && w !== where[1]) throw new CommandError('ERR syntax error');
  let count = 1;
  const rest = argv.slice(at + 2 + numkeys);
  if (rest.length) {
    if (rest.length !== 2 || upper(rest[0]!) !== 'COUNT') throw new CommandError('ERR syntax error');
    count = mustInt(rest[1]!);
    if (count <= 0) throw new CommandError('ERR count should be greater than 0');
  }
  return { keys, first: w === where[0], count };
}
