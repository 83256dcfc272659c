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

  it('copies plain words and falls back at any byte that needs care, in any sub-range of alternating sources', () => {
    // One special byte at each position of plain text: the word-at-a-time path must stop at it.
    const specials = [[0x00], [0x00, 0x00, 0x00], [0x1f], [0x22], [0x5c], [0x7f], [0x20], [0x80], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xff]];
    const w = new JsonOut(8);
    let checked = 0;
    for (let len = 0; len <= 13; len++)
      for (let at = 0; at <= len; at++)
        for (const sp of specials) {
          const text = Buffer.concat([Buffer.from('abcdefghijklm'.slice(0, at)), Buffer.from(sp), Buffer.from('nopqrstuvwxyz'.slice(0, len - at))]);
          // Sources of three sizes in turn, the text at an odd offset (the word loop must not assume alignment).
          const src = Buffer.alloc(text.length + 7 + (checked % 3), 0x41);
          text.copy(src, 3);
          w.clear();
          const ok = w.utf8Str(src, 3, 3 + text.length);
          expect(ok).toBe(isUtf8(text));
          if (ok) expect(w.written().toString('latin1')).toBe(Buffer.from(JSON.stringify(text.toString('utf8')), 'utf8').toString('latin1'));
          else expect(w.pos).toBe(0);
          checked++;
        }
    expect(checked).toBe(105 * specials.length);
  });

  it('writes ASCII latin1 strings as JSON.stringify does, and refuses any other', () => {
    const w = new JsonOut(4);
    for (const s of ['', 'member:1', '"\\\u0000\b\t\n\f\r\u001f\u007f x', 'a'.repeat(300)]) {
      w.clear();
      expect(w.asciiStr(s)).toBe(true);
      expect(w.written().toString('latin1')).toBe(JSON.stringify(s));
    }
    for (const s of ['caf\u00e9', '\u00ff', 'a'.repeat(70000)]) {
      w.clear();
      expect(w.asciiStr(s)).toBe(false);
      expect(w.pos).toBe(0);
    }
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
