import type { Readable } from 'node:stream';
import { UsageError } from '../../util/errors.js';

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
}

export interface StoreOptions {
  /** S3-compatible endpoint URL (else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS). */
  s3Endpoint?: string;
  s3Region?: string;
  /** Path-style addressing (most self-hosted S3 servers need it). */
  s3PathStyle?: boolean;
  /** Attempts per S3 request (the SDK retries with backoff). */
  s3MaxAttempts?: number;
}

/** Picks the backend for a target: `s3://bucket/prefix`, else a local directory. */
export async function openStore(target: string, opts: StoreOptions = {}): Promise<BackupStore> {
  if (/^s3:\/\//i.test(target)) {
    const { S3Store } = await import('./s3-store.js');
    return S3Store.fromUrl(target, opts);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw new UsageError(`unsupported target ${target} (expected a directory or s3://bucket/prefix)`);
  const { LocalStore } = await import('./local-store.js');
  return new LocalStore(target);
}
