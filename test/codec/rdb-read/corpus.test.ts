import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ByteSource } from '../../../src/util/byte-source.js';
import { FormatError } from '../../../src/util/errors.js';
import { keyJsonLine, parseFunctionHeader } from '../../../src/inspect/key-json.js';
import { CORPUS, keysOf, readAll, sha256, walk } from './corpus-helpers.js';

/**
 * Every .rdb of the corpus (server datasets and third-party test dumps) decodes equal to its JSON
 * ground truth, key by key, through the same jsonl presentation `rdb-dump --encoding base64` uses.
 */

type Json = Record<string, unknown>;

const files = [...walk(`${CORPUS}rdb`, '.rdb'), ...walk(`${CORPUS}third-party`, '.rdb')];

const num = (s: unknown): number => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s));

function compareStream(ours: Json, gt: Json, where: string): void {
  expect(ours.entries, `${where} entries`).toEqual(gt.entries);
  for (const f of ['length', 'last_id', 'max_deleted_entry_id', 'entries_added', 'recorded_first_entry_id']) {
    // A newer server derives v2+ fields for a v1 stream; the file does not store them.
    if (f in gt && f in ours) expect(ours[f], `${where} ${f}`).toEqual(gt[f]);
  }
  const approx = gt.times_approx === true;
  const og = ours.groups as Json[];
  const gg = gt.groups as Json[];
  expect(og.map((g) => g.name), `${where} group names`).toEqual(gg.map((g) => g.name));
  gg.forEach((g, i) => {
    const o = og[i]!;
    const w = `${where} group ${String(g.name)}`;
    expect(o.last_delivered_id, `${w} last_delivered_id`).toEqual(g.last_delivered_id);
    if ('entries_read' in g && 'entries_read' in o) expect(o.entries_read, `${w} entries_read`).toEqual(g.entries_read);
    const strip = (p: unknown[]): unknown[] => (approx ? p.filter((x) => typeof x !== 'number' || x < 1e11) : p);
    expect((o.pel as unknown[][]).map(strip), `${w} pel`).toEqual((g.pel as unknown[][]).map(strip));
    const oc = o.consumers as Json[];
    const gc = g.consumers as Json[];
    expect(oc.map((c) => c.name), `${w} consumers`).toEqual(gc.map((c) => c.name));
    gc.forEach((c, j) => {
      const x = oc[j]!;
      if (!approx) {
        expect(x.seen_time, `${w} seen_time`).toEqual(c.seen_time);
        if ('active_time' in c && 'active_time' in x) expect(x.active_time, `${w} active_time`).toEqual(c.active_time);
      }
      expect((x.pel as unknown[][]).map(strip), `${w} consumer pel`).toEqual((c.pel as unknown[][]).map(strip));
    });
  });
}

function compareKey(ours: Json, gt: Json): void {
  const where = `db ${String(gt.db)} key ${String(gt.key)}`;
  expect(ours.type, where).toEqual(gt.type);
  expect(ours.key_base64 ?? false, where).toEqual(gt.key_base64 ?? false);
  if (gt.expire_approx === true && typeof gt.expire_at_ms === 'number') {
    expect(Math.abs((ours.expire_at_ms as number) - gt.expire_at_ms), `${where} expiry`).toBeLessThan(5000);
  } else {
    expect(ours.expire_at_ms, `${where} expiry`).toEqual(gt.expire_at_ms);
  }
  const ov = ours.value;
  const gv = gt.value as Json;
  switch (gt.type) {
    case 'string':
      if (typeof gv === 'object' && gv && 'sha256' in gv) {
        const b = Buffer.from(ov as string, 'base64');
        expect({ sha256: sha256(b), length: b.length }, where).toEqual({ sha256: gv.sha256, length: gv.length });
      } else expect(ov, where).toEqual(gv);
      break;
    case 'zset':
      expect((ov as [string, string][]).map(([m, s]) => [m, num(s)]), where).toEqual((gv as unknown as [string, string][]).map(([m, s]) => [m, num(s)]));
      break;
    case 'hash': {
      const o = ov as Json;
      expect(o.fields, where).toEqual(gv.fields);
      expect(o.field_expire_at_ms ?? {}, `${where} field TTLs`).toEqual(gv.field_expire_at_ms ?? {});
      break;
    }
    case 'stream':
      compareStream(ov as Json, gv, where);
      break;
    default:
      expect(ov, where).toEqual(gv);
  }
}

describe('RDB corpus decodes equal to the ground truth', () => {
  it('finds the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  for (const file of files) {
    const name = file.slice(CORPUS.length);
    it(name, async () => {
      const gt = JSON.parse(readFileSync(file.replace(/\.rdb$/, '.json'), 'utf8')) as Json;
      if (gt.ground_truth === null) {
        // No server loads it: it must parse or fail with one clear FormatError, nothing else.
        try {
          await readAll(ByteSource.fromFile(file));
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
          expect((e as Error).message).toMatch(/at byte \d+: expected /);
          expect((e as Error).message).not.toMatch(/\n/);
        }
        return;
      }
      const records = await readAll(ByteSource.fromFile(file));
      const eof = records.at(-1)!;
      expect(eof.kind).toBe('eof');
      const keys = keysOf(records);
      const ours = keys.map((k) => JSON.parse(keyJsonLine(k, 'base64')) as Json);
      const sortKey = (k: Json): string => `${String(k.db).padStart(3, '0')}:${Buffer.from(String(k.key), k.key_base64 ? 'base64' : 'utf8').toString('hex')}`;
      ours.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
      const gtKeys = [...(gt.keys as Json[])].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
      expect(ours.map(sortKey)).toEqual(gtKeys.map(sortKey));
      ours.forEach((k, i) => compareKey(k, gtKeys[i]!));
      const counts: Record<string, number> = {};
      for (const k of keys) counts[String(k.db)] = (counts[String(k.db)] ?? 0) + 1;
      expect(counts).toEqual(gt.key_counts);
      const fns = records.flatMap((r) => (r.kind === 'function' ? [r.code.toString('utf8')] : []));
      const gtFns = ((gt.functions as Json[] | null) ?? []).map((f) => f.code);
      expect(fns.sort()).toEqual((gtFns as string[]).sort());
      for (const code of fns) expect(parseFunctionHeader(Buffer.from(code))?.engine.toUpperCase()).toBe('LUA');
    });
  }
});
