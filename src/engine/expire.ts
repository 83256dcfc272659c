import { upper } from './args.js';
import { CommandError, SYNTAX } from './errors.js';
import { mustInt } from './numbers.js';

// Absolute-time arithmetic shared by SET/GETEX/EXPIRE and the hash-field TTL commands.

const MAX_MS = 2 ** 63 - 1;

/** Converts an EX/PX/EXAT/PXAT style amount to absolute unix ms, with Redis's range checks. */
export function toAbsoluteMs(amount: Buffer, unit: 's' | 'ms', absolute: boolean, now: number, cmd: string, allowZero = false): number {
  const n = mustInt(amount);
  if (n < 0 || (n === 0 && !allowZero)) throw new CommandError(`ERR invalid expire time in '${cmd}' command`);
  const ms = unit === 's' ? n * 1000 : n;
  if (!Number.isSafeInteger(ms) || ms > MAX_MS) throw new CommandError(`ERR invalid expire time in '${cmd}' command`);
  const at = absolute ? ms : ms + now;
  if (!Number.isSafeInteger(at) || at > MAX_MS) throw new CommandError(`ERR invalid expire time in '${cmd}' command`);
  return at;
}

export type ExpireCond = 'NX' | 'XX' | 'GT' | 'LT' | 'XX_LT' | null;

/** Parses the NX/XX/GT/LT flags of EXPIRE and HEXPIRE (at most one of NX, XX|GT|LT combos Redis allows). */
export function parseExpireCond(args: Buffer[]): ExpireCond {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (const a of args) {
    const f = upper(a);
    if (f === 'NX') nx = true;
    else if (f === 'XX') xx = true;
    else if (f === 'GT') gt = true;
    else if (f === 'LT') lt = true;
    else throw new CommandError(`ERR Unsupported option ${a.toString('latin1')}`);
  }
  if (nx && (xx || gt || lt)) throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) throw new CommandError('ERR GT and LT options at the same time are not compatible');
  // XX combined with GT/LT behaves as GT/LT on keys that have a TTL, which GT/LT already imply
  // for GT; for LT with XX the key must have a TTL.
  if (xx && lt) return 'XX_LT';
  return nx ? 'NX' : gt ? 'GT' : lt ? 'LT' : xx ? 'XX' : null;
}

/** Whether a TTL change from `current` (null = none) to `next` passes the condition. */
export function expireAllowed(cond: ExpireCond, current: number | null, next: number): boolean {
  switch (cond) {
    case 'NX':
      return current === null;
    case 'XX':
      return current !== null;
    case 'GT':
      return current !== null && next > current;
    case 'LT':
      return current === null || next < current;
    case 'XX_LT':
      return current !== null && next < current;
    default:
      return true;
  }
}

export function syntaxError(): CommandError {
  return new CommandError(SYNTAX);
}
