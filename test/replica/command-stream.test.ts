import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { CommandStream } from '../../src/replica/command-stream.js';
import { ByteSource } from '../../src/util/byte-source.js';

const cmd = (...a: string[]) => encodeCommand(a);

async function apply(stream: CommandStream, bytes: Buffer[]) {
  const applied: Array<[number, string]> = [];
  const acks: number[] = [];
  await stream.run(
    ByteSource.fromBuffer(Buffer.concat(bytes), 'stream'),
    { append: (db, argv) => void applied.push([db, argv.map((b) => b.toString()).join(' ')]) },
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
    await expect(apply(s, [cmd('SET', 'a', '1'), Buffer.from(':5\r\n')])).rejects.toThrow(/stream: at byte 27: a command/);
  });
});
