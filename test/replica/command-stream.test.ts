import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { parseOne } from '../../src/codec/resp/parser.js';
import { CommandStream } from '../../src/replica/command-stream.js';
import { ByteSource } from '../../src/util/byte-source.js';

const cmd = (...a: string[]) => encodeCommand(a);
/** "SET a 1" for a frame, checking it is the exact encoding of its arguments. */
function frameText(frame: Buffer): string {
  const v = parseOne(frame) as Buffer[];
  expect(encodeCommand(v).equals(frame)).toBe(true);
  return v.map((b) => b.toString()).join(' ');
}

async function apply(stream: CommandStream, bytes: Buffer[]) {
  const applied: Array<[number, string]> = [];
  const acks: number[] = [];
  await stream.run(
    ByteSource.fromBuffer(Buffer.concat(bytes), 'stream'),
    { appendEncoded: (db, frame) => void applied.push([db, frameText(frame)]) },
    (o) => acks.push(o),
  );
  return { applied, acks };
}

describe('CommandStream offset accounting', () => {
  it('counts every byte, answers GETACK with the offset before itself, and stores only data commands', async () => {
    const parts = [cmd('SELECT', '1'), cmd('SET', 'a', '1'), cmd('REPLCONF', 'GETACK', '*'), cmd('ping'), cmd('MULTI'), cmd('INCR', 'n'), cmd('SELECT', '2'), cmd('INCR', 'm'), cmd('EXEC')];
    const s = new CommandStream(100, 0);
    const { applied, acks } = await apply(s, parts);
    expect(acks).toEqual([100 + parts[0]!.length + parts[1]!.length]);
    expect(s.offset).toBe(100 + Buffer.concat(parts).length);
    expect(s.db).toBe(2);
    expect(applied).toEqual([
      [1, 'SET a 1'],
      [1, 'MULTI'],
      [1, 'INCR n'],
      [2, 'INCR m'],
      [2, 'EXEC'],
    ]);
  });

  it('does not advance inside MULTI: a transaction cut by the link is dropped whole', async () => {
    const parts = [cmd('SELECT', '3'), cmd('SET', 'a', '1'), cmd('MULTI'), cmd('SELECT', '4'), cmd('SET', 'b', '2')];
    const s = new CommandStream(0, 0);
    const { applied } = await apply(s, parts);
    s.abandonPartial();
    expect(s.offset).toBe(parts[0]!.length + parts[1]!.length);
    expect(s.db).toBe(3);
    expect(applied).toEqual([[3, 'SET a 1']]);
  });

  it('rejects something that is not a command with the stream offset', async () => {
    const s = new CommandStream(0, 0);
    await expect(apply(s, [cmd('SET', 'a', '1'), Buffer.from(':5\r\n')])).rejects.toThrow(/stream: at byte 27: "\*" starting a command/);
    await expect(apply(new CommandStream(0, 0), [Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nab\r\n')])).rejects.toThrow(/at byte 18: CRLF after a bulk/);
  });

  it('applies frames split at every byte boundary the same way', async () => {
    const all = Buffer.concat([cmd('SELECT', '5'), cmd('SET', 'k', 'v'.repeat(300)), cmd('MULTI'), cmd('INCR', 'n'), cmd('EXEC'), cmd('ping')]);
    const s = new CommandStream(0, 0);
    const applied: string[] = [];
    async function* bytes() {
      for (let i = 0; i < all.length; i++) yield all.subarray(i, i + 1);
    }
    await s.run(ByteSource.fromStream(bytes(), 'split'), { appendEncoded: (db, f) => void applied.push(`${db}:${frameText(f)}`) }, () => {});
    expect(s.offset).toBe(all.length);
    expect(applied).toEqual([`5:SET k ${'v'.repeat(300)}`, '5:MULTI', '5:INCR n', '5:EXEC']);
  });

  it('applies a command of 200k arguments arriving in 1000-byte chunks as one exact frame', async () => {
    const args = ['RPUSH', 'big', ...Array.from({ length: 200_000 }, (_, i) => `e${i}`)];
    const big = encodeCommand(args);
    const all = Buffer.concat([cmd('SELECT', '2'), big, cmd('MULTI'), big, cmd('EXEC'), cmd('SET', 'a', 'b')]);
    const s = new CommandStream(0, 0);
    const frames: Array<[number, Buffer]> = [];
    async function* bytes() {
      for (let i = 0; i < all.length; i += 1000) yield all.subarray(i, i + 1000);
    }
    await s.run(ByteSource.fromStream(bytes(), 'split'), { appendEncoded: (db, f) => void frames.push([db, Buffer.from(f)]) }, () => {});
    expect(s.offset).toBe(all.length);
    expect(frames.map(([db, f]) => `${db}:${f.length}`)).toEqual([`2:${big.length}`, '2:15', `2:${big.length}`, '2:14', '2:27']);
    expect(frames[0]![1].equals(big) && frames[2]![1].equals(big)).toBe(true);
    expect(frameText(frames[4]![1])).toBe('SET a b');
  });
});
