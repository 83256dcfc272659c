import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import { mustInt, mustI64 } from '../numbers.js';
import { Stream, ID_ZERO, U64_MAX, idCmp, idKey, type Consumer, type Group, type Id, type Nack } from '../stream.js';
import { bkey, own } from '../values.js';
import type { CommandTable } from './index.js';
import { upper } from '../args.js';

const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/** Parses "ms-seq" or "ms" (seq = missingSeq); seqStar allows "ms-*" (returned as seq -1n). */
function parseId(b: Buffer, missingSeq = 0n, seqStar = false): Id {
  const s = b.toString('latin1');
  const dash = s.indexOf('-');
  const msText = dash < 0 ? s : s.slice(0, dash);
  const seqText = dash < 0 ? null : s.slice(dash + 1);
  if (!/^[0-9]+$/.test(msText)) throw new CommandError(INVALID_ID);
  const ms = BigInt(msText);
  if (ms > U64_MAX) throw new CommandError(INVALID_ID);
  if (seqText === null) return { ms, seq: missingSeq };
  if (seqStar && seqText === '*') return { ms, seq: -1n };
  if (!/^[0-9]+$/.test(seqText)) throw new CommandError(INVALID_ID);
  const seq = BigInt(seqText);
  if (seq > U64_MAX) throw new CommandError(INVALID_ID);
  return { ms, seq };
}

interface Trim {
  strategy: 'MAXLEN' | 'MINID';
  maxlen: number;
  minid: Id;
}

/** Parses the trimming options at argv[i]; returns the new index. */
function parseTrim(argv: Buffer[], i: number, out: { trim?: Trim }): number {
  const strategy = upper(argv[i]!) as 'MAXLEN' | 'MINID';
  i++;
  const next = argv[i]?.toString('latin1');
  if (next === '=' || next === '~') i++;
  const thr = argv[i];
  if (!thr) throw new CommandError(SYNTAX);
  const trim: Trim = { strategy, maxlen: 0, minid: ID_ZERO };
  if (strategy === 'MAXLEN') {
    trim.maxlen = mustInt(thr, 'ERR value is not an integer or out of range');
    if (trim.maxlen < 0) throw new CommandError('ERR The MAXLEN argument must be >= 0.');
  } else trim.minid = parseId(thr);
  i++;
  // LIMIT only bounds approximate trimming; Redis rewrites it away before propagating.
  if (argv[i] && upper(argv[i]!) === 'LIMIT') {
    mustInt(argv[i + 1] ?? Buffer.alloc(0));
    i += 2;
  }
  out.trim = trim;
  return i;
}

/** Exact trimming (what the propagated command asks for after Redis rewrote `~` to `=`). */
function applyTrim(s: Stream, t: Trim): void {
  let n = 0;
  if (t.strategy === 'MAXLEN') n = Math.max(0, s.length - t.maxlen);
  else n = s.lowerBound(t.minid);
  if (n <= 0) return;
  s.dropFront(n);
  s.refreshFirstId();
}

function xadd(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  let i = 2;
  let nomkstream = false;
  const opts: { trim?: Trim } = {};
  for (;;) {
    const o = argv[i] ? upper(argv[i]!) : '';
    if (o === 'NOMKSTREAM') {
      nomkstream = true;
      i++;
    } else if (o === 'MAXLEN' || o === 'MINID') i = parseTrim(argv, i, opts);
    else break;
  }
  const idArg = argv[i];
  const fields = argv.slice(i + 1).map((f) => own(f));
  if (!idArg || fields.length === 0 || fields.length % 2) throw new CommandError("ERR wrong number of arguments for 'xadd' command");
  const auto = idArg.toString('latin1') === '*';
  const given = auto ? null : parseId(idArg, 0n, true);
  if (given && given.ms === 0n && given.seq === 0n) throw new CommandError('ERR The ID specified in XADD must be greater than 0-0');
  const cur = ks.get(key, 'stream');
  if (!cur && nomkstream) return;
  const s = cur ?? new Stream();
  let id: Id;
  if (!given) {
    const now = BigInt(ks.clock());
    id = now > s.lastId.ms ? { ms: now, seq: 0n } : { ms: s.lastId.ms, seq: s.lastId.seq + 1n };
  } else if (given.seq === -1n) {
    if (given.ms === s.lastId.ms) {
      if (s.lastId.seq === U64_MAX) throw new CommandError('ERR The ID specified in XADD is equal or smaller than the target stream top item');
      id = { ms: given.ms, seq: s.lastId.seq + 1n };
    } else id = { ms: given.ms, seq: 0n };
  } else id = given;
  if (idCmp(id, s.lastId) <= 0) throw new CommandError('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  s.append({ id, fields });
  s.lastId = id;
  s.entriesAdded++;
  if (s.length === 1) s.firstId = id;
  if (!cur) ks.set(key, { type: 'stream', v: s });
  if (opts.trim) applyTrim(s, opts.trim);
}

function xtrim(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  const o = upper(argv[2]!);
  if (o !== 'MAXLEN' && o !== 'MINID') throw new CommandError(SYNTAX);
  const opts: { trim?: Trim } = {};
  const end = parseTrim(argv, 2, opts);
  if (end !== argv.length) throw new CommandError(SYNTAX);
  const s = ks.get(key, 'stream');
  if (s) applyTrim(s, opts.trim!);
}

function xdel(ks: Keyspace, argv: Buffer[]): void {
  const ids = argv.slice(2).map((b) => parseId(b));
  const s = ks.get(argv[1]!, 'stream');
  if (!s) return;
  let firstDeleted = false;
  for (const id of ids) {
    const at = s.find(id);
    if (at < 0) continue;
    s.removeAt(at);
    if (idCmp(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
    if (idCmp(id, s.firstId) === 0) firstDeleted = true;
  }
  if (firstDeleted) s.refreshFirstId();
}

function group(s: Stream, name: Buffer, key: Buffer): Group {
  const g = s.groups.get(bkey(name));
  if (!g) throw new CommandError(`NOGROUP No such key '${key.toString()}' or consumer group '${name.toString()}'`);
  return g;
}

function newConsumer(g: Group, name: Buffer, now: number): Consumer {
  const c: Consumer = { name, seenTime: now, activeTime: -1, pel: new Map() };
  g.consumers.set(bkey(name), c);
  return c;
}

function dropNack(g: Group, k: string): void {
  const n = g.pel.get(k);
  if (!n) return;
  g.pel.delete(k);
  n.consumer.pel.delete(k);
}

function parseEntriesRead(argv: Buffer[], i: number): bigint | null | undefined {
  if (i >= argv.length) return undefined;
  if (upper(argv[i]!) !== 'ENTRIESREAD' || i + 2 !== argv.length) throw new CommandError(SYNTAX);
  const n = mustI64(argv[i + 1]!);
  if (n < 0n && n !== -1n) throw new CommandError('ERR value for ENTRIESREAD must be positive or -1');
  return n === -1n ? null : n;
}

function xgroup(ks: Keyspace, argv: Buffer[]): void {
  const sub = upper(argv[1]!);
  const key = argv[2];
  if (!key) throw new CommandError(SYNTAX);
  if (sub === 'CREATE') {
    const [, , , name, idArg] = argv;
    if (!name || !idArg) throw new CommandError(SYNTAX);
    let i = 5;
    let mkstream = false;
    if (argv[i] && upper(argv[i]!) === 'MKSTREAM') {
      mkstream = true;
      i++;
    }
    const entriesRead = parseEntriesRead(argv, i);
    let s = ks.get(key, 'stream');
    if (!s && !mkstream) throw new CommandError('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.');
    const dollar = idArg.toString('latin1') === '$';
    const id = dollar ? (s?.lastId ?? ID_ZERO) : parseId(idArg);
    if (!s) {
      s = new Stream();
      ks.set(key, { type: 'stream', v: s });
    }
    if (s.groups.has(bkey(name))) throw new CommandError('BUSYGROUP Consumer Group name already exists');
    // Without ENTRIESREAD the counter is "unknown" (verified on 7.0.15, also for `$`).
    const read = entriesRead !== undefined ? entriesRead : null;
    s.groups.set(bkey(name), { name, lastId: id, entriesRead: read, pel: new Map(), consumers: new Map() });
    return;
  }
  const s = ks.get(key, 'stream');
  if (!s) throw new CommandError('ERR The XGROUP subcommand requires the key to exist.');
  const name = argv[3];
  if (!name) throw new CommandError(SYNTAX);
  if (sub === 'SETID') {
    const idArg = argv[4];
    if (!idArg) throw new CommandError(SYNTAX);
    const g = group(s, name, key);
    const dollar = idArg.toString('latin1') === '$';
    const entriesRead = parseEntriesRead(argv, 5);
    g.lastId = dollar ? s.lastId : parseId(idArg);
    g.entriesRead = entriesRead !== undefined ? entriesRead : null;
  } else if (sub === 'DESTROY') {
    s.groups.delete(bkey(name));
  } else if (sub === 'CREATECONSUMER') {
    const g = group(s, name, key);
    const cname = argv[4];
    if (!cname) throw new CommandError(SYNTAX);
    if (!g.consumers.has(bkey(cname))) newConsumer(g, cname, ks.clock());
  } else if (sub === 'DELCONSUMER') {
    const g = group(s, name, key);
    const cname = argv[4];
    if (!cname) throw new CommandError(SYNTAX);
    const c = g.consumers.get(bkey(cname));
    if (!c) return;
    for (const k of [...c.pel.keys()]) dropNack(g, k);
    g.consumers.delete(bkey(cname));
  } else throw new CommandError(`ERR unknown subcommand '${argv[1]!.toString('latin1')}'.`);
}

function xack(ks: Keyspace, argv: Buffer[]): void {
  const ids = argv.slice(3).map((b) => parseId(b));
  const s = ks.get(argv[1]!, 'stream');
  if (!s) return;
  const g = s.groups.get(bkey(argv[2]!));
  if (!g) return;
  for (const id of ids) dropNack(g, idKey(id));
}

/**
 * XCLAIM: the form Redis propagates for XREADGROUP deliveries and claims
 * (`XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id`).
 */
function xclaim(ks: Keyspace, argv: Buffer[]): void {
  const [, key, gname, cname, minIdleArg] = argv as [Buffer, Buffer, Buffer, Buffer, Buffer];
  const now = ks.clock();
  let minIdle = mustInt(minIdleArg, 'ERR Invalid min-idle-time argument for XCLAIM');
  if (minIdle < 0) minIdle = 0;
  let i = 5;
  const ids: Id[] = [];
  for (; i < argv.length; i++) {
    try {
      ids.push(parseId(argv[i]!));
    } catch {
      break;
    }
  }
  let deliveryTime = now;
  let retryCount = -1;
  let force = false;
  let justId = false;
  let lastId: Id | null = null;
  for (; i < argv.length; i++) {
    const o = upper(argv[i]!);
    const more = i + 1 < argv.length;
    if (o === 'FORCE') force = true;
    else if (o === 'JUSTID') justId = true;
    else if (o === 'IDLE' && more) deliveryTime = now - mustInt(argv[++i]!, 'ERR Invalid IDLE option argument for XCLAIM');
    else if (o === 'TIME' && more) deliveryTime = mustInt(argv[++i]!, 'ERR Invalid TIME option argument for XCLAIM');
    else if (o === 'RETRYCOUNT' && more) retryCount = mustInt(argv[++i]!, 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
    else if (o === 'LASTID' && more) lastId = parseId(argv[++i]!);
    else throw new CommandError(`ERR Unrecognized XCLAIM option '${argv[i]!.toString('latin1')}'`);
  }
  const s = ks.get(key, 'stream');
  if (!s) throw new CommandError(`NOGROUP No such key '${key.toString()}' or consumer group '${gname.toString()}'`);
  const g = group(s, gname, key);
  if (lastId && idCmp(lastId, g.lastId) > 0) g.lastId = lastId;
  // A delivery time before the epoch or in the future is replaced by now, as Redis does.
  if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  let consumer: Consumer | undefined;
  for (const id of ids) {
    const k = idKey(id);
    let nack: Nack | undefined = g.pel.get(k);
    if (s.find(id) < 0) {
      // The entry is gone from the stream: Redis 7.0+ clears it from the PEL instead.
      if (nack) dropNack(g, k);
      continue;
    }
    if (force && !nack) {
      nack = { id, deliveryTime: now, deliveryCount: 1, consumer: null as unknown as Consumer };
      g.pel.set(k, nack);
    }
    if (!nack) continue;
    if (nack.consumer && minIdle && now - nack.deliveryTime < minIdle) continue;
    if (!consumer) {
      consumer = g.consumers.get(bkey(cname)) ?? newConsumer(g, cname, now);
      consumer.seenTime = now;
    }
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(k);
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justId) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(k, nack);
      nack.consumer = consumer;
    }
    consumer.activeTime = now;
  }
}

function xsetid(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  const id = parseId(argv[2]!);
  let entriesAdded: bigint | null = null;
  let maxDeleted: Id | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const o = upper(argv[i]!);
    const v = argv[i + 1];
    if (!v) throw new CommandError(SYNTAX);
    if (o === 'ENTRIESADDED') {
      entriesAdded = mustI64(v);
      if (entriesAdded < 0n) throw new CommandError('ERR entries_added must be positive');
    } else if (o === 'MAXDELETEDID') maxDeleted = parseId(v);
    else throw new CommandError(SYNTAX);
  }
  const s = ks.get(key, 'stream');
  if (!s) throw new CommandError('ERR no such key');
  if (maxDeleted && idCmp(id, maxDeleted) < 0) throw new CommandError('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
  if (entriesAdded !== null && BigInt(s.length) > entriesAdded) throw new CommandError('ERR The entries_added specified in XSETID is smaller than the target stream length');
  if (s.length > 0 && idCmp(id, s.entry(s.length - 1).id) < 0) throw new CommandError('ERR The ID specified in XSETID is smaller than the target stream top item');
  s.lastId = id;
  if (entriesAdded !== null) s.entriesAdded = entriesAdded;
  if (maxDeleted) s.maxDeletedId = maxDeleted;
}

const notReplicated = (name: string): string => `${name} is never propagated as such (Redis replicates its effects as XCLAIM / XGROUP SETID / XDEL)`;

export const streamCommands: CommandTable = {
  xadd: { arity: -5, run: xadd },
  xtrim: { arity: -4, run: xtrim },
  xdel: { arity: -3, run: xdel },
  xgroup: { arity: -2, run: xgroup },
  xack: { arity: -4, run: xack },
  xclaim: { arity: -6, run: xclaim },
  xsetid: { arity: -3, run: xsetid },
  xautoclaim: { arity: -6, run: () => {}, unsupported: notReplicated('XAUTOCLAIM') },
  xreadgroup: { arity: -7, run: () => {}, unsupported: notReplicated('XREADGROUP') },
};

