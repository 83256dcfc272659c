import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RdbKey } from '../../src/codec/rdb/model.js';
import { functionToCommand, valueToCommands } from '../../src/codec/rdb/to-commands.js';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { parseFrameAt } from '../../src/codec/resp/parser.js';
import { globMatch } from '../../src/inspect/glob.js';
import { dumpRdb, type DumpOptions } from '../../src/inspect/rdb-dump.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { CORPUS, keysOf, readAll, tinyChunks, walk } from '../codec/rdb-read/corpus-helpers.js';

/**
 * rdb-dump --format resp is written by the reader's validating pass through KeyRespSink (no
 * decoded model), in pieces. It must be the commands valueToCommands makes from the model, in
 * the same order and batches, for every corpus file, any filter, whatever the input chunking
 * (records parsed again after a short read) and the cut points of the pieces. Only the members
 * of a zset may come in another order (stored order, not sorted): the same ZADDs in meaning.
 */

const files = [...walk(`${CORPUS}rdb`, '.rdb'), ...walk(`${CORPUS}third-party`, '.rdb')];

async function viaModel(data: Buffer, keep: (k: RdbKey) => boolean = () => true): Promise<Buffer> {
  const out: Buffer[] = [];
  let db = -1;
  for (const r of await readAll(ByteSource.fromBuffer(data, 'f'))) {
    if (r.kind === 'function') out.push(encodeCommand(functionToCommand(r.code)));
    else if (r.kind === 'key' && keep(r.entry)) {
      const k = r.entry;
      if (k.db !== db) out.push(encodeCommand(['SELECT', String(k.db)]));
      db = k.db;
      for (const argv of valueToCommands(k.key, k.value!, k.expireAtMs)) out.push(encodeCommand(argv));
    }
  }
  return Buffer.concat(out);
}

async function viaSink(src: ByteSource, opts: Partial<DumpOptions> = {}): Promise<{ resp: Buffer; keys: number }> {
  const parts: Buffer[] = [];
  const { keys } = await dumpRdb(src, { format: 'resp', encoding: 'utf8', ...opts }, (c) => void parts.push(Buffer.from(c)));
  return { resp: Buffer.concat(parts), keys };
}

/**
 * The commands as text lines; a run of ZADDs on one key becomes one line of its (score, member)
 * pairs sorted, plus the batch sizes (the same whatever the member order).
 */
function normalized(resp: Buffer): string[] {
  const lines: string[] = [];
  let zkey: string | null = null;
  let pairs: string[] = [];
  let sizes: number[] = [];
  const flush = (): void => {
    if (zkey !== null) lines.push(`ZADD ${zkey} [${sizes.join(',')}] ${pairs.sort().join(' ')}`);
    zkey = null;
    pairs = [];
    sizes = [];
  };
  for (let pos = 0; pos < resp.length; ) {
    const [v, next] = parseFrameAt(resp, pos);
    pos = next;
    const argv = (v as Buffer[]).map((a) => a.toString('hex'));
    if (argv[0] === Buffer.from('ZADD').toString('hex')) {
      if (zkey !== argv[1]) flush();
      zkey = argv[1]!;
      sizes.push(argv.length);
      for (let i = 2; i < argv.length; i += 2) pairs.push(`${argv[i]}:${argv[i + 1]}`);
      continue;
    }
    flush();
    lines.push(argv.join(' '));
  }
  flush();
  return lines;
}

describe('rdb-dump --format resp straight from the reader', () => {
  it('walks a corpus', () => expect(files.length).toBeGreaterThan(40));

  for (const file of files) {
    const name = file.slice(CORPUS.length);
    it(`${name}: the model's commands, whatever the chunking and the pieces`, async () => {
      const data = readFileSync(file);
      const damaged = await viaModel(data).then(
        () => null,
        (e: Error) => e.message,
      );
      if (damaged !== null) {
        await expect(viaSink(ByteSource.fromBuffer(data, 'f'))).rejects.toThrow(damaged);
        return;
      }
      const want = normalized(await viaModel(data));
      const whole = await viaSink(ByteSource.fromBuffer(data, 'f'));
      expect(normalized(whole.resp), name).toEqual(want);
      expect(whole.keys).toBe(keysOf(await readAll(ByteSource.fromBuffer(data, 'f'))).length);
      // 7-byte chunks: records cut and parsed again, their partial commands taken back.
      expect(normalized((await viaSink(tinyChunks(data, 7))).resp)).toEqual(want);
      // A piece per record or so: each piece SELECTs its first db, the redundant ones are dropped.
      expect(normalized((await viaSink(ByteSource.fromBuffer(data, 'f'), { pieceBytes: 16 })).resp)).toEqual(want);
    });
  }

  it('filters by db, type and glob exactly as the model does', async () => {
    const data = readFileSync(files.find((f) => f.includes('7.0'))!);
    const keys = keysOf(await readAll(ByteSource.fromBuffer(data, 'f')));
    const dbs = new Set(keys.map((k) => k.db));
    const types = new Set(keys.map((k) => k.value!.type));
    expect(dbs.size).toBeGreaterThan(1);
    expect(types.size).toBeGreaterThan(3);
    for (const db of dbs) {
      expect(normalized((await viaSink(ByteSource.fromBuffer(data, 'f'), { db, pieceBytes: 64 })).resp)).toEqual(normalized(await viaModel(data, (k) => k.db === db)));
    }
    for (const type of types) {
      expect(normalized((await viaSink(ByteSource.fromBuffer(data, 'f'), { type, pieceBytes: 64 })).resp)).toEqual(normalized(await viaModel(data, (k) => k.value!.type === type)));
    }
    const match = Buffer.from('*a*');
    const got = await viaSink(ByteSource.fromBuffer(data, 'f'), { match });
    expect(got.keys).toBeGreaterThan(0);
    expect(normalized(got.resp)).toEqual(normalized(await viaModel(data, (k) => globMatch(match, k.key))));
  });
});
