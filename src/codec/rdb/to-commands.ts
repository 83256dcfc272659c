import { ToolError } from '../../util/errors.js';
import { encodeDump } from './dump.js';
import { formatScore } from './encoding.js';
import { hashFieldKey, type PathHashValue, type RedisValue, type StreamEntry, type StreamId, type StreamValue } from './model.js';
import type { StreamMeta } from './value-sink.js';

/**
 * The commands that recreate a key in an empty server, in the form Redis's AOF rewrite emits
 * (rewriteAppendOnlyFileRio, formats digest §4.6): variadic commands in batches of 64 items,
 * streams rebuilt entry by entry with their consumer-group state, then PEXPIREAT for a TTL.
 * Everything here is accepted by Redis 7.0 (XSETID ENTRIESADDED/MAXDELETEDID, XGROUP CREATE
 * ENTRIESREAD and XGROUP CREATECONSUMER exist since 7.0); hash-field TTLs need 7.4 (HPEXPIREAT).
 */

/** AOF_REWRITE_ITEMS_PER_CMD in Redis. */
export const ITEMS_PER_COMMAND = 64;


const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const num = (n: number | bigint): Buffer => Buffer.from(String(n), 'latin1');
const streamId = (id: StreamId): Buffer => Buffer.from(`${id.ms}-${id.seq}`, 'latin1');

export function valueToCommands(key: Buffer, value: RedisValue, expireAtMs: number | null): Buffer[][] {
  const out: Buffer[][] = [];
  forEachCommand(key, value, expireAtMs, (argv) => out.push(argv));
  return out;
}

/** valueToCommands one command at a time: a big stream need not be held as one array of commands. */
export function forEachCommand(key: Buffer, value: RedisValue, expireAtMs: number | null, emit: (argv: Buffer[]) => void): void {
  const out = { push: emit };
  switch (value.type) {
    case 'string':
      out.push([b('SET'), key, value.value]);
      break;
    case 'list':
      batches(out, 'RPUSH', key, value.value, (e) => [e]);
      break;
    case 'set':
      batches(out, 'SADD', key, value.value, (e) => [e]);
      break;
    case 'zset':
      batches(out, 'ZADD', key, value.value, ([m, s]) => [b(formatScore(s)), m]);
      break;
    case 'hash':
      hashCommands(out, key, value);
      break;
    case 'stream':
      streamCommands(out, key, value.value);
      break;
    case 'module':
      throw new ToolError(`key "${printable(key)}": a value of module type ${value.value.name} cannot be expressed as commands`);
    case 'array':
      // No public command builds an RDB 14 array element by element: RESTORE of its DUMP payload
      // (RDB 14) recreates it on a Redis 8.8+ node.
      out.push([b('RESTORE'), key, b('0'), encodeDump(value, 14, key), b('REPLACE')]);
      break;
    case 'pathhash':
      pathHashCommands(out, key, value.value);
      break;
  }
  if (expireAtMs !== null) out.push([b('PEXPIREAT'), key, num(expireAtMs)]);
}

/** Where commands go, one argv at a time. */
export interface Out {
  push(argv: Buffer[]): void;
}

/** FUNCTION LOAD <code>, as the rewrite emits one per library. */
export function functionToCommand(code: Buffer): Buffer[] {
  return [b('FUNCTION'), b('LOAD'), code];
}

function batches<T>(out: Out, cmd: string, key: Buffer, items: readonly T[], args: (item: T) => Buffer[]): void {
  for (let i = 0; i < items.length; i += ITEMS_PER_COMMAND) {
    const argv: Buffer[] = [b(cmd), key];
    const end = Math.min(items.length, i + ITEMS_PER_COMMAND);
    for (let j = i; j < end; j++) argv.push(...args(items[j]!));
    out.push(argv);
  }
}

function hashCommands(out: Out, key: Buffer, value: Extract<RedisValue, { type: 'hash' }>): void {
  if (!value.expires || value.expires.size === 0) {
    batches(out, 'HMSET', key, value.value, ([f, v]) => [f, v]);
    return;
  }
  // With field TTLs Redis writes one HMSET per field, each followed by its HPEXPIREAT.
  for (const [f, v] of value.value) {
    out.push([b('HMSET'), key, f, v]);
    const at = value.expires.get(hashFieldKey(f));
    if (at !== undefined) out.push([b('HPEXPIREAT'), key, num(at), b('FIELDS'), b('1'), f]);
  }
}

/**
 * A Valkey 9.2 path hash as PHSET key path FIELDS n field value ..., 64 fields per command. An
 * empty one (no paths) is made the way Valkey's own AOF rewrite makes it: PHSET of a placeholder
 * path, then PHDEL of it (valkey t_path_hash.c rewriteRadixObject).
 */
function pathHashCommands(out: Out, key: Buffer, v: PathHashValue): void {
  if (v.paths.length === 0) emptyPathHashCommands(out, key);
  for (const { path, fields } of v.paths) pathCommands(out, key, path, fields);
}

/** An empty path hash: a placeholder path set, then deleted. */
export function emptyPathHashCommands(out: Out, key: Buffer): void {
  out.push([b('PHSET'), key, EMPTY, b('FIELDS'), b('1'), EMPTY, EMPTY]);
  out.push([b('PHDEL'), key, EMPTY]);
}

/** PHSET of one path's fields, 64 per command. */
export function pathCommands(out: Out, key: Buffer, path: Buffer, fields: ReadonlyArray<readonly [Buffer, Buffer]>): void {
  for (let i = 0; i < fields.length; i += ITEMS_PER_COMMAND) {
    const end = Math.min(fields.length, i + ITEMS_PER_COMMAND);
    const argv: Buffer[] = [b('PHSET'), key, path, b('FIELDS'), num(end - i)];
    for (let j = i; j < end; j++) argv.push(...fields[j]!);
    out.push(argv);
  }
}

const EMPTY = Buffer.alloc(0);

function streamCommands(out: Out, key: Buffer, s: StreamValue): void {
  for (const e of s.entries) out.push(streamEntryCommand(key, e));
  streamTailCommands(out, key, s, s.entries.length > 0);
}

/** XADD of one stream entry with its ID. */
function streamEntryCommand(key: Buffer, e: StreamEntry): Buffer[] {
  return [b('XADD'), key, streamId(e.id), ...e.fields];
}

/**
 * What follows a stream's XADDs (`hadEntries`: whether there were any): its IDs and counters,
 * consumer groups, their consumers and pending entries.
 */
export function streamTailCommands(out: Out, key: Buffer, s: StreamMeta, hadEntries: boolean): void {
  // An empty stream is created by adding an entry that MAXLEN 0 trims away at once.
  if (!hadEntries) out.push([b('XADD'), key, b('MAXLEN'), b('0'), b('0-1'), b('x'), b('y')]);
  out.push([b('XSETID'), key, streamId(s.lastId), b('ENTRIESADDED'), num(s.entriesAdded), b('MAXDELETEDID'), streamId(s.maxDeletedId)]);
  for (const g of s.groups) {
    out.push([b('XGROUP'), b('CREATE'), key, g.name, streamId(g.lastDeliveredId), b('ENTRIESREAD'), num(g.entriesRead ?? -1)]);
    const nacks = new Map<string, { deliveryTimeMs: number; deliveryCount: number }>();
    for (const p of g.pel) nacks.set(`${p.id.ms}-${p.id.seq}`, p);
    for (const c of g.consumers) {
      if (c.pending.length === 0) {
        out.push([b('XGROUP'), b('CREATECONSUMER'), key, g.name, c.name]);
        continue;
      }
      for (const id of c.pending) {
        const nack = nacks.get(`${id.ms}-${id.seq}`);
        if (!nack) throw new ToolError(`key "${printable(key)}": consumer "${printable(c.name)}" of group "${printable(g.name)}" has pending entry ${id.ms}-${id.seq} missing from the group's PEL`);
        out.push([
          b('XCLAIM'), key, g.name, c.name, b('0'), streamId(id),
          b('TIME'), num(nack.deliveryTimeMs), b('RETRYCOUNT'), num(nack.deliveryCount), b('JUSTID'), b('FORCE'),
        ]);
      }
    }
  }
}

/** A key for an error message: text when printable, else hex. */
export function printable(key: Buffer): string {
  const s = key.toString('utf8');
  return /^[\x20-\x7e\u00a0-\uffff]*$/.test(s) && !s.includes('\ufffd') && s.length <= 200 ? s : `0x${key.subarray(0, 100).toString('hex')}`;
}
