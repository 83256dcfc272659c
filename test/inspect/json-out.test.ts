import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { JsonOut } from '../../src/inspect/json-out.js';

// JsonOut's hand-written escaping must equal JSON.stringify byte for byte (rdb-dump's output contract).
let seed = 7;
const rnd = (n: number): number => (((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n);

function samples(): Buffer[] {
  const out: Buffer[] = [Buffer.alloc(0), Buffer.from('"\\\u0000\b\t\n\f\r\u001f\u007f'), Buffer.from('é€😀\u2028\u2029', 'utf8')];
  out.push(Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc3]), Buffer.from([0xff, 0x41]));
  for (let i = 0; i < 2000; i++) {
    const n = rnd(40);
    const pick = rnd(3);
    if (pick === 0) out.push(Buffer.from(Array.from({ length: n }, () => rnd(128)))); // ASCII incl. controls
    else if (pick === 1) out.push(Buffer.from(Array.from({ length: n }, () => String.fromCodePoint(rnd(0x11000))).join(''), 'utf8'));
    else out.push(Buffer.from(Array.from({ length: n }, () => rnd(256)))); // mostly invalid UTF-8
  }
  // Past the optimistic size limit (exact-size pass): escapes, valid and invalid UTF-8.
  const big = Buffer.alloc(70000, 0x61);
  big[5] = 0;
  big[69999] = 0x22;
  out.push(big, Buffer.concat([big, Buffer.from('€')]), Buffer.concat([big, Buffer.from([0xff])]));
  return out;
}

describe('JsonOut', () => {
  it('writes byte strings exactly as JSON.stringify of their UTF-8 text, and refuses invalid UTF-8', () => {
    let valid = 0;
    let invalid = 0;
    for (const b of samples()) {
      const w = new JsonOut(16);
      w.ascii('x');
      const ok = w.utf8Str(b);
      expect(ok).toBe(isUtf8(b));
      if (ok) {
        valid++;
        expect(w.take().toString('latin1')).toBe(`x${Buffer.from(JSON.stringify(b.toString('utf8')), 'utf8').toString('latin1')}`);
      } else {
        invalid++;
        expect(w.pos).toBe(1); // nothing written on refusal
      }
    }
    expect(valid).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(100);
  });

  it('writes base64 exactly as Buffer#toString("base64")', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 100, 4095, 4096, 5000]) {
      const b = Buffer.from(Array.from({ length: n }, () => rnd(256)));
      const w = new JsonOut(4);
      w.base64Str(b);
      expect(w.take().toString('latin1')).toBe(`"${b.toString('base64')}"`);
    }
  });
});
