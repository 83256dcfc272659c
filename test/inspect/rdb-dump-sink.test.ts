import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ByteSource } from '../../src/util/byte-source.js';
import type { RdbKey } from '../../src/codec/rdb/model.js';
import { dumpRdb, type DumpOptions } from '../../src/inspect/rdb-dump.js';
import { globMatch } from '../../src/inspect/glob.js';
import { functionJsonLine, keyJsonLine, type ByteEncoding } from '../../src/inspect/key-json.js';
import { CORPUS, keysOf, readAll, tinyChunks, walk } from '../codec/rdb-read/corpus-helpers.js';

/**
 * rdb-dump's jsonl is written by the reader's validating pass through KeyJsonSink, not from the
 * decoded model. It must be the same bytes as the model's presentation (keyJsonLine, which the
 * corpus test compares with the ground truth) for every corpus file, both encodings, any filter,
 * and whatever the chunking of the input (records re-parsed after a short read).
 */

const files = [...walk(`${CORPUS}rdb`, '.rdb'), ...walk(`${CORPUS}third-party`, '.rdb')];

async function viaModel(data: Buffer, encoding: ByteEncoding, keep: (k: RdbKey) => boolean = () => true): Promise<string> {
  const lines: string[] = [];
  for (const r of await readAll(ByteSource.fromBuffer(data, 'f'))) {
    if (r.kind === 'function') lines.push(functionJsonLine(r.code));
    else if (r.kind === 'key' && keep(r.entry)) lines.push(keyJsonLine(r.entry, encoding));
  }
  return lines.map((l) => `${l}\n`).join('');
}

async function viaSink(src: ByteSource, opts: Partial<DumpOptions>): Promise<{ text: string; keys: number }> {
  const parts: Buffer[] = [];
  // The sink reuses its buffer once the chunk is taken: copy.
  const { keys } = await dumpRdb(src, { format: 'jsonl', encoding: 'utf8', ...opts }, (c) => void parts.push(Buffer.from(c)));
  return { text: Buffer.concat(parts).toString('utf8'), keys };
}

describe('rdb-dump jsonl straight from the reader', () => {
  it('walks a corpus', () => expect(files.length).toBeGreaterThan(40));

  for (const file of files) {
    const name = file.slice(CORPUS.length);
    it(`${name}: same bytes as the model, utf8 and base64`, async () => {
      const data = readFileSync(file);
      // Damaged third-party dumps: the same one-line error.
      const damaged = await viaModel(data, 'utf8').then(
        () => null,
        (e: Error) => e.message,
      );
      if (damaged !== null) {
        await expect(viaSink(ByteSource.fromBuffer(data, 'f'), {})).rejects.toThrow(damaged);
        return;
      }
      for (const encoding of ['utf8', 'base64'] as const) {
        const want = await viaModel(data, encoding);
        const got = await viaSink(ByteSource.fromBuffer(data, 'f'), { encoding });
        expect(got.text, `${name} ${encoding}`).toBe(want);
        expect(got.keys).toBe(keysOf(await readAll(ByteSource.fromBuffer(data, 'f'))).length);
      }
      // 7-byte chunks: most records are cut and parsed again; their partial lines must go.
      const chunked = await viaSink(tinyChunks(data, 7), { encoding: 'utf8' });
      expect(chunked.text).toBe(await viaModel(data, 'utf8'));
    });
  }

  it('filters by db, type and glob exactly as the model does', async () => {
    const data = readFileSync(files.find((f) => f.includes('7.0'))!);
    const keys = keysOf(await readAll(ByteSource.fromBuffer(data, 'f')));
    const dbs = new Set(keys.map((k) => k.db));
    const types = new Set(keys.map((k) => k.value!.type));
    expect(types.size).toBeGreaterThan(3);
    for (const db of dbs) {
      expect((await viaSink(ByteSource.fromBuffer(data, 'f'), { db })).text).toBe(await viaModel(data, 'utf8', (k) => k.db === db));
    }
    for (const type of types) {
      expect((await viaSink(ByteSource.fromBuffer(data, 'f'), { type })).text).toBe(await viaModel(data, 'utf8', (k) => k.value!.type === type));
    }
    const match = Buffer.from('*a*');
    const got = await viaSink(ByteSource.fromBuffer(data, 'f'), { match });
    expect(got.keys).toBeGreaterThan(0);
    expect(got.text).toBe(await viaModel(data, 'utf8', (k) => globMatch(match, k.key)));
  });

  it('a damaged file fails at the same byte as the model reader, after the keys before it', async () => {
    const data = Buffer.from(readFileSync(files.find((f) => f.includes('7.0'))!));
    const keys = keysOf(await readAll(ByteSource.fromBuffer(data, 'f')));
    const victim = keys[Math.floor(keys.length / 2)]!;
    data[victim.offset] = 0x3f; // not a type or opcode
    const modelError = await readAll(ByteSource.fromBuffer(data, 'f')).catch((e: Error) => e.message);
    const parts: Buffer[] = [];
    const sinkError = await dumpRdb(ByteSource.fromBuffer(data, 'f'), { format: 'jsonl', encoding: 'utf8' }, (c) => void parts.push(Buffer.from(c))).catch(
      (e: Error) => e.message,
    );
    expect(typeof modelError).toBe('string');
    expect(sinkError).toBe(modelError);
    expect(sinkError).toContain(`at byte ${victim.offset}`);
  });
});
