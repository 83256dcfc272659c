/**
 * Redis glob matching on bytes (stringmatchlen semantics: `*`, `?`, `[abc]`, `[^a-z]`, `\x`), so
 * `--match` selects exactly the keys `SCAN MATCH` / `KEYS` would. Written by hand because the
 * usual glob libraries implement path semantics (`/`, `**`, braces) that Redis does not have.
 */
export function globMatch(pattern: Buffer, str: Buffer): boolean {
  return matchAt(pattern, 0, str, 0);
}

function matchAt(p: Buffer, pi: number, s: Buffer, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === 0x2a) {
      // '*': collapse runs, then try every suffix.
      while (pi + 1 < p.length && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchAt(p, pi + 1, s, k)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === 0x3f) {
      pi++;
      si++;
      continue;
    }
    if (c === 0x5b) {
      let i = pi + 1;
      const not = p[i] === 0x5e;
      if (not) i++;
      let matched = false;
      const ch = s[si]!;
      while (i < p.length && p[i] !== 0x5d) {
        if (p[i] === 0x5c && i + 1 < p.length) {
          if (p[i + 1] === ch) matched = true;
          i += 2;
        } else if (i + 2 < p.length && p[i + 1] === 0x2d && p[i + 2] !== 0x5d) {
          let lo = p[i]!;
          let hi = p[i + 2]!;
          if (lo > hi) [lo, hi] = [hi, lo];
          if (ch >= lo && ch <= hi) matched = true;
          i += 3;
        } else {
          if (p[i] === ch) matched = true;
          i++;
        }
      }
      if (not) matched = !matched;
      if (!matched) return false;
      pi = i < p.length ? i + 1 : i;
      si++;
      continue;
    }
    if (c === 0x5c && pi + 1 < p.length) pi++;
    if (p[pi] !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}
