/** A command argument as an upper-case option name (Redis compares options case-insensitively). */
export function upper(b: Buffer): string {
  return b.toString('latin1').toUpperCase();
}
