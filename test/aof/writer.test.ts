import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AofWriter } from '../../src/codec/aof/writer.js';

describe('AofWriter', () => {
  for (const fsync of ['always', 'everysec', 'no'] as const) {
    it(`appends RESP with SELECT on db change and #TS lines once per second (fsync ${fsync})`, async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'aofw-')), 'a.aof');
      let now = 1000;
      const w = await AofWriter.open(path, { fsync, timestamps: true, nowS: () => now });
      await w.append(0, ['SET', 'k', 'v']);
      await w.append(0, ['INCR', 'n']);
      now = 1001;
      await w.append(3, ['SET', Buffer.from([0, 255]), 'x']);
      await w.annotateTimestamp(1001); // same second: nothing
      await w.close();
      const want =
        '#TS:1000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n' +
        '#TS:1001\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$2\r\n\x00\xff\r\n$1\r\nx\r\n';
      const got = readFileSync(path);
      expect(got.equals(Buffer.from(want, 'latin1'))).toBe(true);
      expect(w.bytesWritten).toBe(got.length);
    });
  }

  it('reopens an existing file in append mode and selects again', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aofw-')), 'a.aof');
    let w = await AofWriter.open(path, { fsync: 'no' });
    await w.append(1, ['DEL', 'a']);
    await w.close();
    w = await AofWriter.open(path, { fsync: 'no' });
    await w.append(1, ['DEL', 'b']);
    await w.close();
    const sel = '*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n';
    expect(readFileSync(path, 'latin1')).toBe(`${sel}*2\r\n$3\r\nDEL\r\n$1\r\na\r\n${sel}*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n`);
    await expect(w.append(1, ['x'])).rejects.toThrow(/closed/);
  });
});
