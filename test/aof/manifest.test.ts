import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ManifestError, formatManifest, parseManifest, quoteArg, splitArgs } from '../../src/codec/aof/manifest.js';
import { CORPUS } from '../helpers/corpus.js';

const corpus = pathToFileURL(CORPUS);

function reason(text: string): string {
  try {
    parseManifest(text, 'm');
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).reason;
  }
  return 'ok';
}

describe('AOF manifest', () => {
  it('parses and re-formats the manifest Redis 7.0 wrote, byte for byte', () => {
    const path = new URL('aof/redis-7.0.15-debian_aof_preamble-yes/appendonlydir/appendonly.aof.manifest', corpus);
    const text = readFileSync(path, 'utf8');
    const m = parseManifest(text, 'appendonly.aof.manifest');
    expect(m.entries.length).toBeGreaterThanOrEqual(2);
    expect(formatManifest(m)).toBe(text);
  });

  it('keeps the replication offsets newer Redis releases write, as aofInfoFormat does', () => {
    const text =
      'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h startoffset 0 endoffset 4096\nfile appendonly.aof.2.incr.aof seq 2 type i startoffset 4096\n';
    const m = parseManifest(text, 'appendonly.aof.manifest');
    expect(m.entries[1]).toEqual({ file: 'appendonly.aof.1.incr.aof', seq: 1, type: 'h', startOffset: 0, endOffset: 4096 });
    expect(formatManifest(m)).toBe(text);
    // Unknown keys are ignored, and an end offset is written only after a start offset (as Redis does).
    const odd = parseManifest('file a.1.incr.aof seq 1 type i endoffset 9 future x\n', 'm');
    expect(formatManifest(odd)).toBe('file a.1.incr.aof seq 1 type i\n');
  });

  it('writes base, then history, then incr, as Redis does', () => {
    const text = formatManifest({
      entries: [
        { file: 'appendonly.aof.3.incr.aof', seq: 3, type: 'i' },
        { file: 'appendonly.aof.2.incr.aof', seq: 2, type: 'h' },
        { file: 'appendonly.aof.3.base.aof', seq: 3, type: 'b' },
      ],
    });
    expect(text).toBe(
      'file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.2.incr.aof seq 2 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n',
    );
  });

  it('quotes names with spaces, quotes and control bytes the way sdscatrepr does, and reads them back', () => {
    const name = 'my aof "x"\t\n\x01é';
    const line = formatManifest({ entries: [{ file: name, seq: 1, type: 'b' }] });
    expect(line).toBe('file "my aof \\"x\\"\\t\\n\\x01\\xc3\\xa9" seq 1 type b\n');
    expect(parseManifest(line, 'm').entries[0]!.file).toBe(name);
    expect(quoteArg(Buffer.from('a b'))).toBe('"a b"');
  });

  it('splits arguments like sdssplitargs', () => {
    const s = (t: string) => splitArgs(Buffer.from(t))?.map((b) => b.toString('latin1')) ?? null;
    expect(s('  a  "b c"  \'d\\\'e\' "\\x41\\n"')).toEqual(['a', 'b c', "d'e", 'A\n']);
    expect(s('x"y z"')).toEqual(['xy z']);
    expect(s('"unterminated')).toBeNull();
    expect(s('"a"b')).toBeNull();
    expect(s("'a'b")).toBeNull();
    expect(s('')).toEqual([]);
  });

  it('refuses what Redis refuses, with Redis words', () => {
    expect(reason('')).toBe('Found an empty AOF manifest');
    expect(reason('file a seq 1 type b')).toBe('The AOF manifest file contains too long line');
    expect(reason('file a seq 1 type b\n\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a seq 1\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a seq 1 type\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file a seq x type b\n')).toBe('Invalid AOF manifest file format');
    expect(reason('file d/a seq 1 type b\n')).toBe("File can't be a path, just a filename");
    expect(reason('file a seq 1 type b\nfile b seq 2 type b\n')).toBe('Found duplicate base file information');
    expect(reason('file a seq 2 type i\nfile b seq 2 type i\n')).toBe('Found a non-monotonic sequence number');
    expect(reason('file a seq 2 type x\n')).toBe('Unknown AOF file type');
    expect(reason(`# ${'c'.repeat(2000)}\nfile a seq 1 type b\n`)).toBe('Invalid AOF manifest file format'); // fgets splits the long comment
    expect(reason('# comment\nFILE a SEQ 1 TYPE b extra value\n')).toBe('ok');
    expect(parseManifest('  file a seq 1 type base  \r\n', 'm').entries).toEqual([{ file: 'a', seq: 1, type: 'b' }]);
  });
});
