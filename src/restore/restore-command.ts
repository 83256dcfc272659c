/**
 * `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s | FREQ f]` encoded as RESP in one buffer.
 * Hand-written because it runs once per restored key: the generic encoder's dozen small
 * allocations per command were most of restore's garbage-collection time.
 */
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;

/** `expireAtMs` is absolute unix ms (sent with ABSTTL), or null for no TTL. */
export function encodeRestore(key: Buffer, expireAtMs: number | null, payload: Buffer, replace: boolean, idleSeconds?: number, freq?: number): Buffer {
  const ttl = expireAtMs === null ? '0' : String(expireAtMs);
  let tail = '';
  let argc = 4;
  if (replace) {
    tail += bulk('REPLACE');
    argc++;
  }
  if (expireAtMs !== null) {
    tail += bulk('ABSTTL');
    argc++;
  }
  if (idleSeconds !== undefined) {
    tail += bulk('IDLETIME') + bulk(String(idleSeconds));
    argc += 2;
  } else if (freq !== undefined) {
    tail += bulk('FREQ') + bulk(String(freq));
    argc += 2;
  }
  const head = `*${argc}\r\n$7\r\nRESTORE\r\n$${key.length}\r\n`;
  const mid = `\r\n${bulk(ttl)}$${payload.length}\r\n`;
  const out = Buffer.allocUnsafe(head.length + key.length + mid.length + payload.length + 2 + tail.length);
  let o = out.write(head, 0, 'latin1');
  o += key.copy(out, o);
  o += out.write(mid, o, 'latin1');
  o += payload.copy(out, o);
  o += out.write(`\r\n${tail}`, o, 'latin1');
  return out;
}
