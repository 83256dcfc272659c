import type { RedisValue } from '../codec/rdb/model.js';
import { decodeDump } from '../codec/rdb/dump.js';
import { readRdb } from '../codec/rdb/reader.js';
import { ByteSource } from '../util/byte-source.js';
import { CommandError } from './errors.js';
import { upper } from './args.js';

/**
 * Binary payloads inside commands (RESTORE's DUMP value, FUNCTION RESTORE's library dump) are
 * decoded by the async RDB codec before the command is applied; the synchronous command handlers
 * find the result here, keyed by the argument's Buffer object.
 */
const decodedValues = new WeakMap<Buffer, RedisValue>();
const decodedLibraries = new WeakMap<Buffer, Buffer[]>();


/** Whether the command carries a payload predecode() must decode first (cheap first-byte test). */
export function hasPayload(argv: Buffer[]): boolean {
  const c = argv[0]?.[0];
  if (c !== 0x72 && c !== 0x52 && c !== 0x66 && c !== 0x46) return false; // r R f F
  const name = upper(argv[0]!);
  return name === 'RESTORE' || name === 'RESTORE-ASKING' || (name === 'FUNCTION' && argv[1] !== undefined && upper(argv[1]) === 'RESTORE');
}

/** Decodes the payload argument of RESTORE / FUNCTION RESTORE, if the command has one. */
export async function predecode(argv: Buffer[]): Promise<void> {
  const name = argv[0] ? upper(argv[0]) : '';
  if ((name === 'RESTORE' || name === 'RESTORE-ASKING') && argv[3] && !decodedValues.has(argv[3])) {
    try {
      decodedValues.set(argv[3], (await decodeDump(argv[3], 'RESTORE payload')).value);
    } catch (e) {
      // Redis answers "ERR DUMP payload version or checksum are wrong" and changes nothing.
      decodedValues.delete(argv[3]);
      void e;
    }
  } else if (name === 'FUNCTION' && argv[1] !== undefined && upper(argv[1]) === 'RESTORE' && argv[2] && !decodedLibraries.has(argv[2])) {
    const libs = await decodeFunctionDump(argv[2]).catch(() => null);
    if (libs) decodedLibraries.set(argv[2], libs);
  }
}

export function restoredValue(payload: Buffer): RedisValue {
  const v = decodedValues.get(payload);
  if (!v) throw new CommandError('ERR DUMP payload version or checksum are wrong');
  return v;
}

export function restoredLibraries(payload: Buffer): Buffer[] {
  const v = decodedLibraries.get(payload);
  if (!v) throw new CommandError('ERR payload version or checksum are wrong');
  return v;
}

/**
 * FUNCTION DUMP payload: FUNCTION2 records, then u16le RDB version and a CRC-64. Framed as an
 * RDB of that version so the reader decodes the records.
 */
async function decodeFunctionDump(payload: Buffer): Promise<Buffer[]> {
  if (payload.length < 10) throw new CommandError('ERR payload version or checksum are wrong');
  const footer = payload.length - 10;
  const version = payload.readUInt16LE(footer);
  const magic = version >= 80 ? `VALKEY${String(version).padStart(3, '0')}` : `REDIS${String(version).padStart(4, '0')}`;
  const framed = Buffer.concat([Buffer.from(magic, 'latin1'), payload.subarray(0, footer), Buffer.from([0xff]), Buffer.alloc(8)]);
  const out: Buffer[] = [];
  for await (const r of readRdb(ByteSource.fromBuffer(framed, 'FUNCTION RESTORE payload'))) {
    if (r.kind === 'function') out.push(r.code);
    else if (r.kind !== 'header' && r.kind !== 'eof') throw new CommandError('ERR given payload is not a function dump');
  }
  return out;
}
