import { createCipheriv, createHash, randomBytes, type Cipher, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CryptoError } from '../util/errors.js';

/**
 * The bulk of an OpenPGP message for `gpg -d` (RFC 4880): a literal data packet inside a SEIPD v1
 * packet (AES-CFB with a zero IV, MDC = SHA-1 of prefix || plaintext || 0xD3 0x14), both with
 * partial body lengths, after the session-key packets openpgp.js wrote (passed in as `head`).
 * Hand-written for speed: openpgp.js frames each packet layer through web streams and copies every
 * chunk once per layer and once more after the cipher; here the only copy is the cipher's output
 * and the cipher and the MDC hash are node:crypto's.
 */

const CIPHERS: Record<string, { name: string; keySize: number }> = {
  aes128: { name: 'aes-128-cfb', keySize: 16 },
  aes192: { name: 'aes-192-cfb', keySize: 24 },
  aes256: { name: 'aes-256-cfb', keySize: 32 },
};
const BLOCK = 16;
/** Partial body chunks of 2^20 bytes (RFC 4880 4.2.2.4: a power of two, the first >= 512). */
const PART_POWER = 20;
const PART = 1 << PART_POWER;
const TAG_LITERAL = 0xc0 | 11;
const TAG_SEIPD = 0xc0 | 18;
const MDC_HEADER = Buffer.from([0xd3, 0x14]);

/** A definite body length (new format): 1, 2 or 5 octets. */
export function definiteLength(n: number): Buffer {
  if (n < 192) return Buffer.from([n]);
  if (n < 8384) return Buffer.from([((n - 192) >> 8) + 192, (n - 192) & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xff;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * Cuts a packet body of unknown length into partial chunks of exactly PART bytes, each after its
 * length octet, and a definite-length last chunk. Pieces are passed on as slices, never copied.
 */
class PartialBody {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private static readonly partHeader = Buffer.from([224 + PART_POWER]);

  constructor(private readonly emit: (b: Buffer) => void) {}

  write(b: Buffer): void {
    if (b.length === 0) return;
    this.pending.push(b);
    this.pendingBytes += b.length;
    // Strictly more than a part: the last chunk always has a definite length of at least one byte.
    while (this.pendingBytes > PART) this.flushPart();
  }

  private flushPart(): void {
    this.emit(PartialBody.partHeader);
    let left = PART;
    while (left > 0) {
      const head = this.pending[0]!;
      if (head.length <= left) {
        this.emit(head);
        this.pending.shift();
        left -= head.length;
      } else {
        this.emit(head.subarray(0, left));
        this.pending[0] = head.subarray(left);
        left = 0;
      }
    }
    this.pendingBytes -= PART;
  }

  end(): void {
    this.emit(definiteLength(this.pendingBytes));
    for (const b of this.pending) this.emit(b);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export interface SessionKey {
  data: Uint8Array;
  algorithm: string;
}

/**
 * A transform from plain bytes to a complete binary OpenPGP message: `head` (the PKESK/SKESK
 * packets for `key`), then the SEIPD v1 packet holding one binary literal data packet.
 */
export function seipdV1Stream(head: Uint8Array, key: SessionKey, date = new Date()): Transform {
  const cipherSpec = CIPHERS[key.algorithm];
  if (!cipherSpec || key.data.length !== cipherSpec.keySize) throw new CryptoError(`cannot encrypt with a ${key.algorithm} session key`);
  const cipher: Cipher = createCipheriv(cipherSpec.name, key.data, Buffer.alloc(BLOCK));
  const mdc: Hash = createHash('sha1');
  let out: Transform;
  const seipdBody = new PartialBody((b) => out.push(b));
  /** Plaintext of the SEIPD packet: hashed for the MDC and encrypted. */
  const plain = (b: Buffer): void => {
    mdc.update(b);
    seipdBody.write(cipher.update(b));
  };
  const literalBody = new PartialBody(plain);

  const start = (): void => {
    out.push(Buffer.from(head));
    out.push(Buffer.from([TAG_SEIPD]));
    seipdBody.write(Buffer.from([1])); // SEIPD version 1, not encrypted
    const prefix = randomBytes(BLOCK + 2);
    prefix[BLOCK] = prefix[BLOCK - 2]!;
    prefix[BLOCK + 1] = prefix[BLOCK - 1]!;
    plain(prefix);
    plain(Buffer.from([TAG_LITERAL]));
    // Literal data header: binary format, no file name, date in seconds.
    const literalHeader = Buffer.alloc(6);
    literalHeader[0] = 0x62;
    literalHeader[1] = 0;
    literalHeader.writeUInt32BE(Math.floor(date.getTime() / 1000), 2);
    literalBody.write(literalHeader);
  };

  let started = false;
  out = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!started) {
        start();
        started = true;
      }
      literalBody.write(chunk);
      cb();
    },
    flush(cb: TransformCallback) {
      if (!started) {
        start();
        started = true;
      }
      literalBody.end();
      plain(MDC_HEADER);
      seipdBody.write(cipher.update(mdc.digest()));
      const rest = cipher.final();
      if (rest.length) seipdBody.write(rest);
      seipdBody.end();
      cb();
    },
  });
  return out;
}
