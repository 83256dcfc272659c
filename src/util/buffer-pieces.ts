/** Views of bytes [from, to) of `parts` taken end to end. */
export function pieces(parts: readonly Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const p of parts) {
    const s = Math.max(from - at, 0);
    const e = Math.min(to - at, p.length);
    if (e > s) out.push(p.subarray(s, e));
    at += p.length;
  }
  return out;
}
