import type { Readable } from 'node:stream';
import { parseTarget } from './target.js';

/**
 * A small storage interface per backend (as Litestream has one per replica client): backups only
 * need to list, put, get, stat and delete whole named objects. Every put is verified by the store
 * before it returns: the object is complete, has the size sent and the store's checksum (or a
 * read-back hash) matches what was sent; otherwise the object is removed and put throws.
 */
export interface ObjectInfo {
  name: string;
  size: number;
  mtime: Date;
}

export interface PutOptions {
  /** Expected size when known in advance (grows the S3 part size for very large objects). */
  sizeHint?: number;
  contentType?: string;
  /**
   * The hex sha256 of the whole body when the caller hashes it anyway (a backup hashes the stored
   * bytes once for its manifest, whatever the number of targets); called once, after the body
   * ended. Without it the store hashes what it receives.
   */
  bodySha256?: () => string;
}

export interface PutResult {
  size: number;
  /** sha256 (hex) of the bytes the store received. */
  sha256: string;
  /** How the stored copy was checked, e.g. "read-back sha256" or "ETag md5 (multipart, 3 parts)". */
  verifiedBy: string;
}

export interface BackupStore {
  /** Where it is, for logs (no secrets). */
  describe(): string;
  list(prefix?: string): AsyncIterable<ObjectInfo>;
  put(name: string, body: Readable, opts?: PutOptions): Promise<PutResult>;
  get(name: string, range?: { start: number; end: number }): Promise<Readable>;
  head(name: string): Promise<{ size: number; etag?: string } | null>;
  delete(name: string): Promise<void>;
  /**
   * Removes what interrupted writes left behind for objects `owns` accepts (temp files, unfinished
   * multipart uploads) once they are stale: older than `before`, or (temp files) of a writer that
   * is gone. Returns what was removed, or would be with `dryRun`.
   */
  sweep(owns: (object: string) => boolean, opts: SweepOptions): Promise<string[]>;
}

export interface SweepOptions {
  before: Date;
  dryRun?: boolean;
}

export interface StoreOptions {
  /** S3-compatible endpoint URL (else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS). */
  s3Endpoint?: string;
  s3Region?: string;
  /** Path-style addressing (most self-hosted S3 servers need it). */
  s3PathStyle?: boolean;
  /** Attempts per S3 request (the SDK retries with backoff). */
  s3MaxAttempts?: number;
  /** SSH private key file for sftp:// targets (passphrase from sshKeyPassphraseFile or TSREDIS_SSH_KEY_PASSPHRASE). */
  sshKey?: string;
  sshKeyPassphraseFile?: string;
  sshPasswordFile?: string;
  /** known_hosts file (default ~/.ssh/known_hosts); unknown and changed host keys are refused. */
  sshKnownHosts?: string;
  /** Append an unknown host key to sshKnownHosts instead of refusing it (a changed one is still refused). */
  sshAcceptNewHostKey?: boolean;
  /** Connection and handshake timeout. */
  sshTimeoutMs?: number;
  /** Connection attempts per operation, with backoff (also how often an upload resumes). */
  sshMaxAttempts?: number;
  /** Verify an SFTP upload with `sha256sum` on the server when it allows commands, instead of reading it back. */
  sftpRemoteHash?: boolean;
}

/** Picks the backend for a target (parsed strictly: see target.ts). */
export async function openStore(text: string, opts: StoreOptions = {}): Promise<BackupStore> {
  const target = parseTarget(text);
  if (target.kind === 's3') {
    const { S3Store } = await import('./s3-store.js');
    return S3Store.fromTarget(target, opts);
  }
  if (target.kind === 'sftp') {
    const { SftpStore } = await import('./sftp-store.js');
    return SftpStore.fromTarget(target, opts);
  }
  const { LocalStore } = await import('./local-store.js');
  return new LocalStore(target.path);
}
