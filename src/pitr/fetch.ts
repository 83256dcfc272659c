import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { DecryptionKeys } from '../backup/crypto.js';
import { HashTap } from '../backup/stream-util.js';
import type { BackupStore } from '../backup/store/store.js';
import { decodeStored } from '../backup/verify-backup.js';
import { download } from '../restore/store-source.js';
import { CryptoError, ExitCode, ToolError, oneLine } from '../util/errors.js';
import type { PitrCatalog, PitrManifest } from './manifest.js';

/**
 * One archive object fetched and proven: present with the manifest's stored size, downloaded
 * (ranged GETs resume a broken transfer), stored sha256, then decrypted/decompressed into
 * `plainPath` and checked against the plain size and sha256. Errors name the object.
 */
export async function fetchObject(store: BackupStore, cat: PitrCatalog, m: PitrManifest, keys: DecryptionKeys, storedPath: string, plainPath: string): Promise<void> {
  const where = `${cat.where}/${m.object}`;
  const listed = cat.objects.get(m.object);
  if (listed === undefined) throw new ToolError(`${where}: object missing (its manifest exists); nothing was written`, ExitCode.DATA);
  if (listed !== m.stored.size) throw new ToolError(`${where}: ${listed} bytes, its manifest says ${m.stored.size} (damaged or tampered); nothing was written`, ExitCode.DATA);
  try {
    const sha = await download(store, m.object, m.stored.size, storedPath);
    if (sha !== m.stored.sha256) throw new ToolError(`${where}: stored sha256 ${sha}, its manifest says ${m.stored.sha256} (damaged, tampered or swapped); nothing was written`, ExitCode.DATA);
    const tap = new HashTap(['sha256']);
    try {
      const plain = await decodeStored(createReadStream(storedPath, { highWaterMark: 1 << 20 }), m, keys, where);
      await pipeline(plain, tap, createWriteStream(plainPath, { mode: 0o600 }));
    } catch (e) {
      if (e instanceof CryptoError) throw e;
      if (m.encryption.mode !== 'none') throw new CryptoError(`cannot decrypt ${where}: wrong passphrase or key (the stored object matches its manifest): ${oneLine(e)}`);
      throw e instanceof ToolError ? e : new ToolError(`${where}: cannot decode: ${oneLine(e)}`, ExitCode.DATA);
    }
    const [plainSha] = tap.digests();
    if (tap.bytes !== m.plain.size || plainSha !== m.plain.sha256) {
      throw new ToolError(`${where}: decoded sha256 ${plainSha} (${tap.bytes} bytes), its manifest says ${m.plain.sha256} (${m.plain.size} bytes); nothing was written`, ExitCode.DATA);
    }
  } finally {
    await rm(storedPath, { force: true });
  }
}
