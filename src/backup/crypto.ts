import { readFile } from 'node:fs/promises';
import { PassThrough, Readable, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { CryptoError, UsageError } from '../util/errors.js';
import { seipdV1Stream } from './pgp-seipd-writer.js';

/**
 * OpenPGP encryption and decryption as streams, with openpgp.js configured for what plain `gpg -d`
 * (GnuPG 2.2+) reads: v4 keys, SKESK v4 / PKESK v3 and SEIPD v1 (CFB + MDC), no AEAD packets.
 * Compression is done before encryption (gzip), so OpenPGP compression stays off.
 */

export type EncryptionSpec =
  | { mode: 'none' }
  | { mode: 'passphrase'; passphrase: string }
  | { mode: 'recipients'; keys: openpgp.PublicKey[] };

/** What decryption may use: a passphrase (gpg -c) and/or secret keys (gpg -e). */
export interface DecryptionKeys {
  passphrase?: string;
  privateKeys?: openpgp.PrivateKey[];
}

const WRITE_CONFIG = {
  aeadProtect: false,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  s2kType: openpgp.enums.s2k.iterated,
} as const;

/**
 * Streaming decryption of SEIPD v1 releases plaintext before the MDC at the end is checked; callers
 * must treat the output as unverified until the stream ends without error (and write to a temp file
 * that is renamed only after the plain sha256 matched).
 */
const READ_CONFIG = { allowUnauthenticatedStream: true } as const;

function toWeb(stream: Readable): WebReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as WebReadableStream<Uint8Array>;
}

function fromWeb(stream: unknown): Readable {
  return Readable.fromWeb(stream as WebReadableStream<Uint8Array>, { highWaterMark: 1 << 20 });
}

/** Reads a key file (armored or binary) and parses it; errors name the file. */
async function readKeyFile<K>(file: string, what: string, parse: (data: Buffer, armored: boolean) => Promise<K[]>): Promise<K[]> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return await parse(data, data.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP'));
  } catch (e) {
    throw new CryptoError(`${file}: not an OpenPGP ${what} (${(e as Error).message})`);
  }
}

/** Reads armored or binary public keys (one file may hold several); refuses v6 keys gpg 2.2 cannot use. */
export async function loadRecipients(files: string[]): Promise<openpgp.PublicKey[]> {
  const keys: openpgp.PublicKey[] = [];
  for (const file of files) {
    const found = await readKeyFile(file, 'public key', (data, armored) =>
      armored ? openpgp.readKeys({ armoredKeys: data.toString('utf8') }) : openpgp.readKeys({ binaryKeys: data }),
    );
    for (const k of found) {
      if (k.keyPacket.version >= 5) throw new CryptoError(`${file}: v${k.keyPacket.version} key ${k.getKeyID().toHex()} is not readable by gpg 2.2; use a v4 key`);
      keys.push(k.isPrivate() ? k.toPublic() : k);
    }
  }
  return keys;
}

/** Reads secret keys (for decrypting `gpg -e` output), unlocking them with the passphrase if locked. */
export async function loadIdentities(files: string[], passphrase?: string): Promise<openpgp.PrivateKey[]> {
  const out: openpgp.PrivateKey[] = [];
  for (const file of files) {
    const keys = await readKeyFile(file, 'secret key', (data, armored) =>
      armored ? openpgp.readPrivateKeys({ armoredKeys: data.toString('utf8') }) : openpgp.readPrivateKeys({ binaryKeys: data }),
    );
    for (const k of keys) {
      if (k.isDecrypted()) out.push(k);
      else if (!passphrase) throw new CryptoError(`${file}: secret key ${k.getKeyID().toHex()} is locked; give its passphrase (--passphrase-file or TSREDIS_PASSPHRASE)`);
      else {
        try {
          out.push(await openpgp.decryptKey({ privateKey: k, passphrase }));
        } catch {
          throw new CryptoError(`${file}: wrong passphrase for secret key ${k.getKeyID().toHex()}`);
        }
      }
    }
  }
  return out;
}

/** Key ids recorded in the manifest (long hex ids of the encryption subkeys' primary keys). */
export function recipientIds(keys: openpgp.PublicKey[]): string[] {
  return keys.map((k) => k.getFingerprint().toUpperCase());
}

/**
 * Encrypts a byte stream; the output is a binary OpenPGP message that `gpg -d` reads. openpgp.js
 * picks the session key (cipher from the recipients' preferences) and writes the PKESK/SKESK
 * packets; the SEIPD v1 packet around the data is written by seipdV1Stream (see there why).
 */
export async function encryptStream(input: Readable, spec: Exclude<EncryptionSpec, { mode: 'none' }>): Promise<Readable> {
  const keys = spec.mode === 'recipients' ? spec.keys : [];
  const sessionKey = await openpgp.generateSessionKey({ encryptionKeys: keys, config: WRITE_CONFIG });
  if (sessionKey.aeadAlgorithm) throw new CryptoError(`the recipients' keys ask for AEAD (${sessionKey.aeadAlgorithm}), which gpg 2.2 cannot read`);
  const head = await openpgp.encryptSessionKey({
    data: sessionKey.data,
    algorithm: sessionKey.algorithm,
    format: 'binary',
    config: WRITE_CONFIG,
    ...(spec.mode === 'passphrase' ? { passwords: [spec.passphrase] } : { encryptionKeys: spec.keys }),
  });
  const out = seipdV1Stream(head, sessionKey);
  // A failed input (source, RDB check, gzip) fails the output too, as a pipeline stage would.
  pipeline(input, out, () => {});
  return out;
}

/**
 * Decrypts a binary or armored OpenPGP message as a stream (what we wrote, or `gpg -c` / `gpg -e`
 * output, compressed or not). Errors become CryptoError naming `name`; an integrity failure
 * surfaces as a stream error at the end.
 */
export async function decryptStream(input: Readable, keys: DecryptionKeys, name: string): Promise<Readable> {
  if (!keys.passphrase && !keys.privateKeys?.length) {
    throw new CryptoError(`${name} is encrypted: give --passphrase-file (or TSREDIS_PASSPHRASE) or --identity KEY`);
  }
  try {
    // openpgp.js does not detect armor itself: an armored message (`gpg -c --armor`) read as binary
    // fails as "not a valid OpenPGP format", so the first bytes decide which reader gets the stream.
    const { head, stream, drained } = await splitHead(input, 64);
    const message = isArmored(head)
      ? await openpgp.readMessage({ armoredMessage: toWeb(stream).pipeThrough(new TextDecoderStream()) })
      : await openpgp.readMessage({ binaryMessage: toWeb(stream) });
    const decrypting = openpgp.decrypt({
      message,
      format: 'binary',
      config: READ_CONFIG,
      // With secret keys the passphrase is the keys' own (already used to unlock them).
      ...(keys.privateKeys?.length ? { decryptionKeys: keys.privateKeys } : { passwords: [keys.passphrase!] }),
    });
    const { data } = await unlessStalled(decrypting, drained, name);
    const out = fromWeb(data);
    // Forward with errors mapped, so a late integrity (MDC) failure still reads as a crypto error.
    const mapped = new PassThrough({ highWaterMark: 1 << 20 });
    out.on('error', (e) => mapped.destroy(decryptError(name, e)));
    mapped.on('close', () => out.destroy());
    return out.pipe(mapped);
  } catch (e) {
    throw decryptError(name, e);
  }
}

/** ASCII armor starts with its header line (RFC 4880 §6.2), possibly after blank lines. */
function isArmored(head: Buffer): boolean {
  return head.toString('latin1').trimStart().startsWith('-----BEGIN PGP MESSAGE-----');
}

/**
 * openpgp.js was seen never to settle decrypt() under a wrong passphrase for some messages (about
 * one `gpg -c` output in seven of a small file: the garbage plaintext parses as an unfinished
 * packet), and the process then ends with nothing said. Once the whole input has been read and
 * decrypt() has still not answered after STALL_MS, that is a wrong key or damaged data.
 */
async function unlessStalled<T>(decrypting: Promise<T>, drained: Promise<void>, name: string): Promise<T> {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    void drained.then(() => {
      if (!settled) timer = setTimeout(() => reject(new CryptoError(`cannot decrypt ${name}: wrong passphrase or key, or damaged data (no OpenPGP result after reading the whole message)`)), STALL_MS);
    });
  });
  try {
    return await Promise.race([decrypting, stalled]);
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}

/** Long enough for a legitimate key derivation on a loaded machine (gpg's default S2K count). */
const STALL_MS = 10_000;

/**
 * The first `n` bytes of `input` (fewer if it is shorter), a stream of all of it, head included,
 * and a promise settled once that stream has read the input to its end.
 */
async function splitHead(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable; drained: Promise<void> }> {
  const it: AsyncIterator<Buffer> = input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value);
    len += r.value.length;
  }
  const head = Buffer.concat(chunks);
  let markDrained!: () => void;
  const drained = new Promise<void>((r) => (markDrained = r));
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (head.length) yield head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      markDrained();
    } finally {
      // A decryption that stops early (wrong key) destroys this stream: close the input with it.
      await it.return?.();
    }
  }
  return { head, stream: Readable.from(all(), { objectMode: false, highWaterMark: 1 << 20 }), drained };
}

export function decryptError(name: string, e: unknown): CryptoError {
  if (e instanceof CryptoError) return e;
  const msg = (e as Error)?.message ?? String(e);
  return new CryptoError(`cannot decrypt ${name}: wrong passphrase or key, or damaged data (${msg.replace(/^Error decrypting message: /, '')})`);
}
