import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ExitCode, IoError, ToolError } from '../../util/errors.js';
import type { BackupStore, ObjectInfo, PutOptions, PutResult, StoreOptions, SweepOptions } from './store.js';
import type { Target } from './target.js';

const MiB = 1024 * 1024;
/** S3 allows 10,000 parts; stay below with room for a size hint that was a little low. */
const MAX_PARTS = 9_000;
const MIN_PART = 5 * MiB; // S3's minimum; small parts keep fewer bytes in flight
/** Without a size hint, 16 MiB parts still reach 140 GiB. */
const DEFAULT_PART = 16 * MiB;

/** Part size grown with the input so that objects over 50 GB fit in S3's part limit. */
export function partSizeFor(sizeHint?: number): number {
  if (!sizeHint) return DEFAULT_PART;
  const need = Math.ceil((sizeHint * 1.1) / MAX_PARTS);
  return Math.max(MIN_PART, Math.ceil(need / MiB) * MiB);
}

/**
 * AWS S3 or any S3-compatible store, through @aws-sdk/client-s3 as in production. Uploads go
 * through lib-storage's Upload (multipart above one part; a failed upload is aborted). The client
 * only sends checksums when an operation requires them: with the SDK's default (WHEN_SUPPORTED) a
 * streamed body is sent with aws-chunked framing that some S3-compatible servers store verbatim.
 */
export class S3Store implements BackupStore {
  private constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
    private readonly endpoint: string | undefined,
  ) {}

  static fromTarget(target: Extract<Target, { kind: 's3' }>, opts: StoreOptions): S3Store {
    const env = process.env;
    // The SDK's multi-line Node-version notice would land in every cron mail; engines documents it.
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const endpoint = opts.s3Endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? undefined;
    const client = new S3Client({
      region: opts.s3Region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle: opts.s3PathStyle ?? false,
      maxAttempts: opts.s3MaxAttempts ?? 5,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3Store(client, target.bucket, target.prefix, endpoint);
  }

  describe(): string {
    return `s3://${this.bucket}/${this.prefix}${this.endpoint ? ` (${this.endpoint})` : ''}`;
  }

  private key(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  private fail(op: string, name: string, e: unknown): never {
    if (e instanceof ToolError) throw e;
    const code = e instanceof S3ServiceException ? e.name : ((e as NodeJS.ErrnoException).code ?? (e as Error).name);
    const attempts = (e as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
    throw new IoError(`S3 ${op} s3://${this.bucket}/${this.key(name)} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${code}: ${(e as Error).message}`);
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    const base = this.prefix ? `${this.prefix}/` : '';
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ContinuationToken: token }));
      } catch (e) {
        this.fail('list', prefix, e);
      }
      for (const o of res.Contents ?? []) {
        const name = o.Key!.slice(base.length);
        if (name.includes('/')) continue; // deeper "directories" are not ours
        yield { name, size: o.Size ?? 0, mtime: o.LastModified ?? new Date(0) };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async put(name: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const partSize = partSizeFor(opts.sizeHint);
    const sums = new PartSums(partSize, !opts.bodySha256);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sums.update(chunk);
        cb(null, chunk);
      },
    });
    body.on('error', (e) => tap.destroy(e));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.key(name), Body: body.pipe(tap), ContentType: opts.contentType ?? 'application/octet-stream' },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      // lib-storage has already tried AbortMultipartUpload; a single PUT leaves nothing behind.
      this.fail('upload', name, e);
    }
    const sent = sums.finish(opts.bodySha256);
    return this.verifyStored(name, sent);
  }

  /** HEAD for the size, then the ETag (md5 single-part or md5-of-part-md5s) or a read-back sha256. */
  private async verifyStored(name: string, sent: SentSums): Promise<PutResult> {
    const where = `s3://${this.bucket}/${this.key(name)}`;
    let head = await this.head(name);
    // Some S3-compatible stores answer HEAD from a replica that lags a moment behind the PUT.
    for (let i = 0; i < 5 && head?.size !== sent.size; i++) {
      await sleep(200 * (i + 1));
      head = await this.head(name);
    }
    let problem: string | null = null;
    let verifiedBy = '';
    if (!head) problem = 'object missing after upload';
    else if (head.size !== sent.size) problem = `stored size ${head.size}, sent ${sent.size}`;
    else {
      const etag = (head.etag ?? '').replace(/"/g, '').toLowerCase();
      if (etag === sent.md5) verifiedBy = 'size + ETag md5';
      else if (etag === sent.multipartEtag) verifiedBy = `size + ETag md5 of ${sent.parts} parts`;
      else {
        // ETag is not an MD5 here (SSE-KMS, some providers): read the object back.
        const h = createHash('sha256');
        try {
          await pipeline(await this.get(name), h);
        } catch (e) {
          this.fail('read-back', name, e);
        }
        const got = h.digest('hex');
        if (got === sent.sha256) verifiedBy = 'size + read-back sha256';
        else problem = `read-back sha256 ${got}, sent ${sent.sha256}`;
      }
    }
    if (problem) {
      await this.delete(name).catch(() => {});
      throw new ToolError(`${where}: verification after upload failed (${problem}); the object was deleted`, ExitCode.DATA);
    }
    return { size: sent.size, sha256: sent.sha256, verifiedBy };
  }

  async get(name: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      return res.Body as Readable;
    } catch (e) {
      this.fail('get', name, e);
    }
  }

  async head(name: string): Promise<{ size: number; etag?: string } | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      return { size: res.ContentLength ?? 0, etag: res.ETag };
    } catch (e) {
      if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound')) return null;
      this.fail('head', name, e);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
    } catch (e) {
      this.fail('delete', name, e);
    }
  }

  /**
   * Multipart uploads a killed run never completed nor aborted (they cost storage and are
   * invisible to a listing): those under our prefix, of objects `owns` accepts, begun before
   * `before`, are aborted.
   */
  async sweep(owns: (object: string) => boolean, opts: SweepOptions): Promise<string[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const removed: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let res;
      try {
        res = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: base, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      } catch (e) {
        this.fail('list multipart uploads', '', e);
      }
      for (const u of res.Uploads ?? []) {
        const name = (u.Key ?? '').slice(base.length);
        if (!u.Key?.startsWith(base) || name.includes('/') || !owns(name) || !u.Initiated || u.Initiated >= opts.before) continue;
        if (!opts.dryRun) {
          try {
            await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
          } catch (e) {
            this.fail('abort multipart upload', name, e);
          }
        }
        removed.push(`${name} (unfinished multipart upload begun ${u.Initiated.toISOString()})`);
      }
      keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
      uploadIdMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return removed;
  }
}

interface SentSums {
  size: number;
  sha256: string;
  /** md5 of the whole object: the ETag of a single-part upload, and of a multipart one on some servers (s3rver). */
  md5: string;
  /** The ETag S3 gives a multipart upload with these part boundaries: md5(concat(part md5s))-N. */
  multipartEtag: string;
  parts: number;
}

/**
 * Hashes of what was sent: the MD5 of the whole, per-part MD5s on lib-storage's part boundaries
 * (every partSize bytes) and, unless the caller supplies it, the sha256.
 */
class PartSums {
  private readonly sha256: Hash | null;
  private readonly md5 = createHash('md5');
  private part: Hash = createHash('md5');
  private inPart = 0;
  private readonly partDigests: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly partSize: number,
    hashSha256: boolean,
  ) {
    this.sha256 = hashSha256 ? createHash('sha256') : null;
  }

  update(chunk: Buffer): void {
    this.sha256?.update(chunk);
    this.md5.update(chunk);
    this.size += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(this.partSize - this.inPart, chunk.length - off);
      this.part.update(chunk.subarray(off, off + take));
      this.inPart += take;
      off += take;
      if (this.inPart === this.partSize) {
        this.partDigests.push(this.part.digest());
        this.part = createHash('md5');
        this.inPart = 0;
      }
    }
  }

  finish(bodySha256?: () => string): SentSums {
    if (this.inPart > 0 || this.partDigests.length === 0) this.partDigests.push(this.part.digest());
    const n = this.partDigests.length;
    return {
      size: this.size,
      sha256: bodySha256 ? bodySha256() : this.sha256!.digest('hex'),
      md5: this.md5.digest('hex'),
      multipartEtag: `${createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex')}-${n}`,
      parts: n,
    };
  }
}
