import { describe, expect, it } from 'vitest';
import { encodeCommand, encodeValue } from '../../src/codec/resp/encoder.js';
import { RespReader, parseOne } from '../../src/codec/resp/parser.js';
import { RespError, RespMap, type RespFrame } from '../../src/codec/resp/types.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { FormatError } from '../../src/util/errors.js';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('RESP', () => {
  const big = Buffer.alloc(100_000, 0xab);
  const stream = Buffer.concat([
    encodeCommand(['SET', 'k', Buffer.from([0, 1, 2, 13, 10])]),
    Buffer.from('+OK\r\n-ERR bad\r\n:42\r\n$-1\r\n*-1\r\n'),
    encodeCommand(['SET', 'big', big]),
    Buffer.from('%1\r\n+a\r\n:1\r\n#t\r\n,1.5\r\n(123456789012345678901234567890\r\n_\r\n'),
  ]);

  it('parses every frame with its offset whatever the chunk size', async () => {
    for (const size of [1, 2, 3, 7, 64, 4096, 1 << 20]) {
      const r = new RespReader(ByteSource.fromStream(chunked(stream, size), 'mem'));
      const frames: RespFrame[] = [];
      for (let f = await r.next(); f; f = await r.next()) frames.push(f);
      expect(frames.map((f) => f.offset)).toEqual(frames.map((_, i) => frames.slice(0, i).reduce((a, f) => a + f.length, 0)));
      expect(frames.reduce((a, f) => a + f.length, 0)).toBe(stream.length);
      const [cmd, ok, err, int, nb, na, cmd2, map, bool, dbl, bn, nul] = frames.map((f) => f.value);
      expect(cmd).toEqual([Buffer.from('SET'), Buffer.from('k'), Buffer.from([0, 1, 2, 13, 10])]);
      expect(ok).toBe('OK');
      expect(err).toBeInstanceOf(RespError);
      expect((err as RespError).code).toBe('ERR');
      expect(int).toBe(42);
      expect(nb).toBeNull();
      expect(na).toBeNull();
      expect(((cmd2 as Buffer[])[2] as Buffer).equals(big)).toBe(true);
      expect(map).toBeInstanceOf(RespMap);
      expect(bool).toBe(true);
      expect(dbl).toBe(1.5);
      expect(bn).toBe(123456789012345678901234567890n);
      expect(nul).toBeNull();
    }
  });

  it('reports truncation and bad bytes with the offset', async () => {
    const cut = stream.subarray(0, 20);
    const r = new RespReader(ByteSource.fromStream(chunked(cut, 5), 'cut.aof'));
    await expect(r.next()).rejects.toThrow(/cut\.aof: at byte 20: the rest of a RESP frame/);
    expect(() => parseOne(Buffer.from('*1\r\n$3\r\nabcXY'), 'x')).toThrow(FormatError);
    expect(() => parseOne(Buffer.from('?oops\r\n'), 'x')).toThrow(/at byte 0: expected a RESP type byte/);
    expect(() => parseOne(Buffer.from('$3\r\nabcXY'), 'x')).toThrow(/at byte 7: expected CRLF after bulk payload/);
  });

  it('encodes values back to the same bytes', () => {
    const v = parseOne(Buffer.from('*3\r\n+OK\r\n:5\r\n$2\r\nhi\r\n'));
    expect(encodeValue(v).toString()).toBe('*3\r\n+OK\r\n:5\r\n$2\r\nhi\r\n');
  });
});
