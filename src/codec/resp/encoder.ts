import { RespError, RespMap, type RespValue } from './types.js';

export type Arg = Buffer | string | number | bigint;

function argBuf(a: Arg): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(typeof a === 'string' ? a : String(a));
}

/** Encodes a command as a RESP array of bulk strings (the form AOF and replication use). */
export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = argBuf(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/** Encodes any value as RESP2 (RESP3 maps become flat arrays, booleans integers). */
export function encodeValue(v: RespValue): Buffer {
  if (v === null) return Buffer.from('$-1\r\n');
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, CRLF]);
  if (typeof v === 'string') return Buffer.from(`+${v}\r\n`);
  if (typeof v === 'number') return Number.isInteger(v) ? Buffer.from(`:${v}\r\n`) : encodeValue(Buffer.from(String(v)));
  if (typeof v === 'bigint') return Buffer.from(`:${v}\r\n`);
  if (typeof v === 'boolean') return Buffer.from(`:${v ? 1 : 0}\r\n`);
  if (v instanceof RespError) return Buffer.from(`-${v.message}\r\n`);
  if (v instanceof RespMap) return encodeValue(v.entries.flat());
  return Buffer.concat([Buffer.from(`*${v.length}\r\n`), ...v.map(encodeValue)]);
}
