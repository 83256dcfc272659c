/**
 * `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s | FREQ f]` encoded as RESP in one buffer.
 * Hand-written because it runs once per restored key: the generic encoder's dozen small
 * allocations per command were most of restore's garbage-collection time.
 */
export interface RestoreArgs {
  key: Buffer;
  /** Absolute unix ms, or null (no TTL). */
  expireAtMs: number | null;
  payload: Buffer;
  replace: boolean;
  idleSeconds?: number;
  freq?: number;
}

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;

export function encodeRestore(a: RestoreArgs): Buffer {
  const ttl = String(a.expireAtMs ?? 0);
  let tail = '';
  let argc = 4;
  if (a.replace) {
    tail += bulk('REPLACE');
    argc++;
  }
  if (a.expireAtMs !== null) {
    tail += bulk('ABSTTL');
    argc++;
  }
  if (a.idleSeconds !== undefined) {
    tail += bulk('IDLETIME') + bulk(String(a.idleSeconds));
    argc += 2;
  } else if (a.freq !== undefined) {
    tail += bulk('FREQ') + bulk(String(a.freq));
    argc += 2;
  }
  const head = `*${argc}\r\n$7\r\nRESTORE\r\n$${a.key.length}\r\n`;
  const mid = `\r\n${bulk(ttl)}$${a.payload.length}\r\n`;
  const out = Buffer.allocUnsafe(head.length + a.key.length + mid.length + a.payload.length + 2 + tail.length);
  let o = out.write(head, 0, 'latin1');
  o += a.key.copy(out, o);
  o += out.write(mid, o, 'latin1');
  o += a.payload.copy(out, o);
  o += out.write(`\r\n${tail}`, o, 'latin1');
  return out;
}
