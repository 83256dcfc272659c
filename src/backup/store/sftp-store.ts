import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { posix } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type ConnectConfig, type OpenMode, type ServerHostKeyAlgorithm, type SFTPWrapper } from 'ssh2';
import { readSecretFile } from '../../net/redis-url.js';
import { tempPathFor } from '../../util/atomic-file.js';
import { CryptoError, ExitCode, IoError, ToolError, UsageError, oneLine } from '../../util/errors.js';
import { addHostKey, checkHostKey, fingerprint, knownHostsName, preferredHostKeyAlgorithms } from './known-hosts.js';
import { TEMP_RE } from './local-store.js';
import type { BackupStore, ObjectInfo, PutOptions, PutResult, StoreOptions, SweepOptions } from './store.js';
import type { Target } from './target.js';

/** Host key algorithms ssh2 implements (its README); a known_hosts type outside them is not offered. */
const SSH2_HOST_KEY_ALGORITHMS = new Set<string>(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-dss']);

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that are answers, not a lost connection. */
const EOF = 1;
const NO_SUCH_FILE = 2;
/** Writes in flight per upload: enough to fill a fast link without waiting for each ack. */
const WINDOW = 8;
const CHUNK = 1 << 20;
/** Reads per request: below every server's limit (OpenSSH's is 255 KiB), 8 in flight per CHUNK. */
const READ_BLOCK = 128 << 10;
/** A remote temp file nobody wrote for this long belongs to a dead run (pids mean nothing remotely). */
const DEAD_WRITER_MS = 30 * 60_000;
/** The connection is closed once idle this long, so a finished command exits. */
const IDLE_CLOSE_MS = 250;

interface Session {
  client: Client;
  sftp: SFTPWrapper;
  closed: boolean;
  /**
   * Rejects when the connection closes. ssh2 never answers a request made on a closed channel,
   * so every wait on this session races with it instead of hanging.
   */
  gone: Promise<never>;
}

/** `p`, or the session's loss, whichever comes first. */
function onSession<T>(s: Session, p: Promise<T>): Promise<T> {
  return s.closed ? Promise.reject(new Error('connection closed')) : Promise.race([p, s.gone]);
}

/** The server could not be reached after every attempt (callers name the operation). */
class Unreachable extends IoError {}

/** A failure that reconnecting cannot fix (host key, authentication, a key file). */
class FatalConnectError extends Error {
  constructor(readonly error: ToolError) {
    super(error.message);
  }
}

/** Errors carrying an SFTP status code are the server's answer; anything else lost the connection. */
function isStatus(e: unknown): e is Error & { code: number } {
  return typeof (e as { code?: unknown }).code === 'number';
}

function promisify<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/**
 * A directory on an SSH server, over SFTP with ssh2 (no scp/sftp child processes: errors, retries
 * and host keys stay in our hands). Objects are written to a temp name, fsynced, read back and
 * hashed, then renamed into place. A connection cut during an upload or a download is reopened
 * with backoff and the transfer resumes at the byte it reached; host key and authentication
 * failures are never retried.
 */
export class SftpStore implements BackupStore {
  private session: Promise<Session> | null = null;
  private current: Session | null = null;
  private busy = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly origin: string;
  private readonly where: string;

  private constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly user: string,
    readonly dir: string,
    private readonly opts: StoreOptions,
  ) {
    this.origin = `sftp://${user}@${host}${port === 22 ? '' : `:${port}`}`;
    this.where = this.url(dir);
  }

  static fromTarget(target: Extract<Target, { kind: 'sftp' }>, opts: StoreOptions): SftpStore {
    return new SftpStore(target.host, target.port, target.user ?? (process.env.USER || userInfo().username), target.path, opts);
  }

  describe(): string {
    return this.where;
  }

  private remote(name: string): string {
    if (name.includes('/') || name.startsWith('.')) throw new IoError(`bad object name ${name}`);
    return posix.join(this.dir, name);
  }

  private connectConfig(): { config: ConnectConfig; hostKeyProblem: () => ToolError | null } {
    const o = this.opts;
    const config: ConnectConfig = {
      host: this.host,
      port: this.port,
      username: this.user,
      readyTimeout: o.sshTimeoutMs ?? 20_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
    };
    if (o.sshKey) {
      try {
        config.privateKey = readFileSync(o.sshKey);
      } catch (e) {
        throw new FatalConnectError(new UsageError(`cannot read --ssh-key ${o.sshKey}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`));
      }
      const passphrase = o.sshKeyPassphraseFile ? readSecretFile(o.sshKeyPassphraseFile) : process.env.TSREDIS_SSH_KEY_PASSPHRASE;
      if (passphrase) config.passphrase = passphrase;
    }
    if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK;
    if (o.sshPasswordFile) config.password = readSecretFile(o.sshPasswordFile);
    const knownHosts = o.sshKnownHosts ?? posix.join(homedir(), '.ssh', 'known_hosts');
    try {
      const prefer = preferredHostKeyAlgorithms(knownHosts, this.host, this.port);
      // ssh2's prepend skips names already in its list: remove them first, then put them in front.
      const known = prefer.filter((a): a is ServerHostKeyAlgorithm => SSH2_HOST_KEY_ALGORITHMS.has(a));
      if (known.length) config.algorithms = { serverHostKey: { remove: known, prepend: known, append: [] } };
    } catch {
      // unreadable: the host key check below says so
    }
    let problem: ToolError | null = null;
    config.hostVerifier = (key: Buffer): boolean => {
      const name = knownHostsName(this.host, this.port);
      const fp = fingerprint(key);
      let verdict;
      try {
        verdict = checkHostKey(knownHosts, this.host, this.port, key);
      } catch (e) {
        problem = new IoError(`${this.where}: cannot read known hosts ${knownHosts}: ${oneLine(e)}`);
        return false;
      }
      if (verdict.status === 'known') return true;
      if (verdict.status === 'unknown' && o.sshAcceptNewHostKey) {
        try {
          addHostKey(knownHosts, this.host, this.port, key);
          return true;
        } catch (e) {
          problem = new IoError(`${this.where}: cannot add the host key ${fp} to ${knownHosts}: ${oneLine(e)}`);
          return false;
        }
      }
      problem = new IoError(
        verdict.status === 'changed'
          ? `${this.where}: HOST KEY MISMATCH for ${name}: the server showed ${fp}, which ${knownHosts} does not hold (it has a ${verdict.knownTypes.join('/')} key for this host). Someone may be intercepting the connection, or the host key was replaced: check it, then fix ${knownHosts}`
          : verdict.status === 'revoked'
            ? `${this.where}: the host key ${fp} of ${name} is marked @revoked in ${knownHosts}`
            : `${this.where}: unknown host key ${fp} for ${name}: not in ${knownHosts}. Check the fingerprint, then add it (ssh-keyscan, or one run with --ssh-accept-new-host-key)`,
      );
      return false;
    };
    return { config, hostKeyProblem: () => problem };
  }

  private connectOnce(): Promise<Session> {
    const { config, hostKeyProblem } = this.connectConfig();
    return new Promise<Session>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        client.end();
        const level = (e as { level?: string }).level;
        const hostKey = hostKeyProblem();
        if (hostKey) reject(new FatalConnectError(hostKey));
        else if (level === 'client-authentication') {
          reject(new FatalConnectError(new CryptoError(`${this.where}: authentication failed for ${this.user} (tried: ${[config.privateKey && 'key', config.agent && 'agent', config.password && 'password'].filter(Boolean).join(', ') || 'nothing: give --ssh-key FILE, SSH_AUTH_SOCK or --ssh-password-file'})`)));
        } else if (/passphrase|privateKey|private key/i.test(e.message) && !level) {
          // Key file problems surface before any network traffic.
          reject(new FatalConnectError(new CryptoError(`${this.where}: cannot use --ssh-key ${this.opts.sshKey}: ${e.message}`)));
        } else reject(e);
      };
      client.on('error', fail);
      client.on('close', () => fail(new Error('connection closed')));
      client.on('ready', () => {
        client.sftp((err, sftp) => {
          if (err) return fail(err);
          settled = true;
          let markGone!: (e: Error) => void;
          const gone = new Promise<never>((_, reject) => (markGone = reject));
          gone.catch(() => {});
          const session: Session = { client, sftp, closed: false, gone };
          const onClose = (): void => {
            if (session.closed) return;
            session.closed = true;
            markGone(new Error('connection closed'));
          };
          client.on('close', onClose);
          sftp.on('close', onClose);
          resolve(session);
        });
      });
      try {
        client.connect(config);
        // Without it, Nagle holds back all but the first of a round of small read requests until
        // the server's delayed ACK (~40 ms per round on loopback: 1 GB read back in 40 s, not 5).
        client.setNoDelay(true);
      } catch (e) {
        fail(e as Error);
      }
    });
  }

  private attempts(): number {
    return this.opts.sshMaxAttempts ?? 4;
  }

  /** The open session, connecting (with retries and backoff) when there is none. */
  private connect(): Promise<Session> {
    if (this.session) return this.session;
    const p = (async () => {
      let last: unknown;
      for (let i = 0; i < this.attempts(); i++) {
        if (i > 0) await sleep(backoffMs(i));
        try {
          const s = await this.connectOnce();
          // A session that drops is forgotten: the next operation reconnects.
          s.client.on('close', () => this.drop(s));
          this.current = s;
          return s;
        } catch (e) {
          if (e instanceof FatalConnectError) throw e.error;
          if (e instanceof ToolError) throw e;
          last = e;
        }
      }
      throw new Unreachable(`cannot connect to ${this.host}:${this.port} (${this.attempts()} attempts): ${oneLine(last)}`);
    })();
    this.session = p;
    p.catch(() => {
      if (this.session === p) this.session = null;
    });
    return p;
  }

  /** Gives up a session (failed or idle), so the next call reconnects. */
  private drop(s: Session): void {
    s.client.end();
    if (this.current === s) {
      this.current = null;
      this.session = null;
    }
  }

  /**
   * Runs one SFTP operation while holding the connection open; a lost connection is retried on a
   * new one with backoff (every operation used this way is idempotent).
   */
  private async op<T>(what: string, path: string, fn: (sftp: SFTPWrapper, client: Client) => Promise<T>): Promise<T> {
    this.hold();
    try {
      let last: unknown;
      for (let i = 0; i < this.attempts(); i++) {
        if (i > 0) await sleep(backoffMs(i));
        const s = await this.connect();
        try {
          return await onSession(s, fn(s.sftp, s.client));
        } catch (e) {
          if (isStatus(e) || e instanceof ToolError) throw e;
          last = e;
          this.drop(s);
        }
      }
      throw new Unreachable(`connection lost ${this.attempts()} times: ${oneLine(last)}`);
    } catch (e) {
      throw this.failure(what, path, e);
    } finally {
      this.release();
    }
  }

  /** One line naming the operation and the remote path; host key, auth and check failures pass as they are. */
  private failure(what: string, path: string, e: unknown): ToolError {
    if (e instanceof ToolError && !(e instanceof Unreachable)) return e;
    return new IoError(`SFTP ${what} ${this.url(path)} failed: ${oneLine(e)}`);
  }

  /** A remote path as a target URL (paths relative to the login directory are written /~/…). */
  private url(path: string): string {
    return `${this.origin}${path.startsWith('/') ? '' : '/~/'}${path}`;
  }

  private hold(): void {
    this.busy++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private release(): void {
    if (--this.busy > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.current && this.busy === 0) this.drop(this.current);
    }, IDLE_CLOSE_MS);
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    const entries = await this.op('list', this.dir, (sftp) =>
      promisify<Array<{ filename: string; attrs: { size: number; mtime: number; isFile(): boolean } }>>((cb) => sftp.readdir(this.dir, cb)).catch((e: unknown) => {
        // A missing directory is a wrong path, not an empty target (as for directories).
        if (isStatus(e) && e.code === NO_SUCH_FILE) throw new IoError(`cannot list ${this.where}: no such directory`);
        throw e;
      }),
    );
    const files = entries
      .filter((e) => !e.filename.startsWith('.') && e.filename.startsWith(prefix) && e.attrs.isFile())
      .sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
    for (const e of files) yield { name: e.filename, size: e.attrs.size, mtime: new Date(e.attrs.mtime * 1000) };
  }

  async head(name: string): Promise<{ size: number } | null> {
    const p = this.remote(name);
    return this.op('stat', p, (sftp) =>
      promisify<{ size: number; isFile(): boolean }>((cb) => sftp.stat(p, cb)).then(
        (st) => (st.isFile() ? { size: st.size } : null),
        (e: unknown) => {
          if (isStatus(e) && e.code === NO_SUCH_FILE) return null;
          throw e;
        },
      ),
    );
  }

  async delete(name: string): Promise<void> {
    const p = this.remote(name);
    await this.op('delete', p, (sftp) => unlinkIfThere(sftp, p));
  }

  private async mkdirs(): Promise<void> {
    await this.op('mkdir', this.dir, async (sftp) => {
      const parts = this.dir.split('/');
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!d) continue;
        const st = await promisify<{ isDirectory(): boolean }>((cb) => sftp.stat(d, cb)).catch(() => null);
        if (st?.isDirectory()) continue;
        await promisify<void>((cb) => sftp.mkdir(d, cb as never));
      }
    });
  }

  async put(name: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const final = this.remote(name);
    const tmp = tempPathFor(final);
    await this.mkdirs();
    this.hold();
    try {
      const sent = opts.bodySha256 ? null : createHash('sha256');
      const upload = new ResumableUpload(this, tmp);
      try {
        await pipeline(
          body,
          new Writable({
            highWaterMark: CHUNK,
            write: (chunk: Buffer, _enc, cb) => {
              sent?.update(chunk);
              upload.write(chunk).then(() => cb(), cb);
            },
            final: (cb) => void upload.finish().then(() => cb(), cb),
          }),
        );
        const want = sent ? sent.digest('hex') : opts.bodySha256!();
        const st = await this.op('stat', tmp, (sftp) => promisify<{ size: number }>((cb) => sftp.stat(tmp, cb)));
        let verifiedBy = 'size + read-back sha256 over SFTP';
        let got = this.opts.sftpRemoteHash ? await this.remoteSha256(tmp) : null;
        if (got) verifiedBy = 'size + sha256sum on the server';
        else {
          if (this.opts.sftpRemoteHash) verifiedBy += ' (the server runs no sha256sum for us)';
          const back = createHash('sha256');
          await pipeline(new ResumableReader(this, tmp, 0, Infinity), back);
          got = back.digest('hex');
        }
        if (st.size !== upload.size || got !== want) {
          throw new ToolError(`${this.where}/${name}: check after upload failed (size ${st.size}, sent ${upload.size}; sha256 ${got}, expected ${want}; ${verifiedBy}); the object was not kept`, ExitCode.DATA);
        }
        await this.op('rename', final, (sftp) => renameOver(sftp, tmp, final));
        return { size: upload.size, sha256: want, verifiedBy };
      } catch (e) {
        upload.abandon();
        await this.op('delete', tmp, (sftp) => unlinkIfThere(sftp, tmp)).catch(() => {});
        throw this.failure('upload', final, e);
      }
    } finally {
      this.release();
    }
  }

  /**
   * `sha256sum` run by the server (--sftp-remote-hash: no second transfer of a large object), or
   * null when it cannot run commands (an SFTP-only account: ForceCommand internal-sftp, no shell).
   */
  private remoteSha256(path: string): Promise<string | null> {
    const quoted = `'${path.replace(/'/g, "'\\''")}'`;
    return this.op('sha256sum', path, (_sftp, client) =>
      new Promise<string | null>((resolve) => {
        client.exec(`sha256sum -- ${quoted}`, (err, ch) => {
          if (err) return resolve(null);
          let out = '';
          ch.on('data', (d: Buffer) => (out += d.toString()));
          ch.stderr.resume();
          ch.on('close', (code: number | null) => resolve(code === 0 ? (/^([0-9a-f]{64}) /.exec(out)?.[1] ?? null) : null));
          ch.end();
        });
      }),
    );
  }

  async get(name: string, range?: { start: number; end: number }): Promise<Readable> {
    const p = this.remote(name);
    // Stat first so a missing object fails here with a clear error, not later in a pipeline.
    if (!(await this.head(name))) throw new IoError(`cannot read ${this.where}/${name}: no such file`);
    return new ResumableReader(this, p, range?.start ?? 0, range ? range.end + 1 : Infinity);
  }

  async sweep(owns: (object: string) => boolean, opts: SweepOptions): Promise<string[]> {
    const entries = await this.op('list', this.dir, (sftp) =>
      promisify<Array<{ filename: string; attrs: { size: number; mtime: number; isFile(): boolean } }>>((cb) => sftp.readdir(this.dir, cb)),
    );
    const removed: string[] = [];
    for (const e of entries) {
      const m = TEMP_RE.exec(e.filename);
      if (!m || !owns(m[1]!) || !e.attrs.isFile()) continue;
      const mtime = e.attrs.mtime * 1000;
      if (!(mtime < opts.before.getTime() || mtime < Date.now() - DEAD_WRITER_MS)) continue;
      const p = posix.join(this.dir, e.filename);
      if (!opts.dryRun) await this.op('delete', p, (sftp) => unlinkIfThere(sftp, p));
      removed.push(`${e.filename} (temp file of an interrupted upload, ${e.attrs.size} bytes)`);
    }
    return removed;
  }

  /** For the transfer helpers below: a live session, and a way to give it up when it failed. */
  /** @internal */ session_(): Promise<Session> {
    return this.connect();
  }
  /** @internal */ drop_(s: Session): void {
    this.drop(s);
  }
  /** @internal */ retries(): number {
    return this.attempts();
  }
  /** @internal */ hold_(): void {
    this.hold();
  }
  /** @internal */ release_(): void {
    this.release();
  }
}

function backoffMs(attempt: number): number {
  return Math.min(8000, 500 * 2 ** (attempt - 1));
}

function unlinkIfThere(sftp: SFTPWrapper, p: string): Promise<void> {
  return promisify<void>((cb) => sftp.unlink(p, cb as never)).catch((e: unknown) => {
    if (!(isStatus(e) && e.code === NO_SUCH_FILE)) throw e;
  });
}

/** posix-rename@openssh.com replaces atomically (the marker is rewritten every run); plain SFTP rename refuses an existing name. */
async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    await promisify<void>((cb) => sftp.ext_openssh_rename(from, to, cb as never));
  } catch (e) {
    if (isStatus(e)) throw e;
    await unlinkIfThere(sftp, to);
    await promisify<void>((cb) => sftp.rename(from, to, cb as never));
  }
}

function openFile(sftp: SFTPWrapper, p: string, flags: OpenMode): Promise<Buffer> {
  return promisify<Buffer>((cb) => sftp.open(p, flags, cb as never));
}

/**
 * Streams into a remote file with WINDOW writes in flight. Unacknowledged chunks are kept: when
 * the connection drops, the file is reopened (without truncation) on a new one and they are sent
 * again at their offsets, so the transfer resumes instead of starting over.
 */
class ResumableUpload {
  size = 0;
  private handle: Promise<{ s: Session; h: Buffer }> | null = null;
  private readonly pending = new Map<number, Buffer>();
  private failure: unknown = null;
  private waiters: Array<() => void> = [];
  private reconnects = 0;
  private opened = false;

  constructor(
    private readonly store: SftpStore,
    private readonly path: string,
  ) {}

  private open(): Promise<{ s: Session; h: Buffer }> {
    this.handle ??= (async () => {
      const s = await this.store.session_();
      // Reopened without truncation after a reconnect: what the server acknowledged stays.
      const h = await onSession(s, openFile(s.sftp, this.path, this.opened ? 'r+' : 'w'));
      this.opened = true;
      return { s, h };
    })();
    return this.handle;
  }

  private send(at: number, chunk: Buffer): void {
    const gen = this.open();
    // Answers from a connection already given up are ignored (the chunk is still pending and is sent again).
    gen.then(
      ({ s, h }) =>
        onSession(s, promisify<void>((cb) => s.sftp.write(h, chunk, 0, chunk.length, at, cb as never))).then(
          () => {
            if (gen !== this.handle) return;
            this.reconnects = 0; // progress again: a later cut gets the full number of attempts
            this.pending.delete(at);
            this.wake();
          },
          (err: unknown) => {
            if (gen === this.handle) this.lost(err, s);
          },
        ),
      (err: unknown) => {
        if (gen === this.handle) this.lost(err, null);
      },
    );
  }


  private lost(err: unknown, s: Session | null): void {
    if (this.failure) return;
    if (isStatus(err) || err instanceof ToolError || ++this.reconnects >= this.store.retries()) {
      this.failure = err;
      return this.wake();
    }
    if (s) this.store.drop_(s);
    this.handle = null;
    void sleep(backoffMs(this.reconnects)).then(() => {
      if (this.failure) return;
      for (const [at, chunk] of this.pending) this.send(at, chunk);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private until(ok: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.failure) reject(this.failure);
        else if (ok()) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    const at = this.size;
    this.size += chunk.length;
    this.pending.set(at, chunk);
    this.send(at, chunk);
    await this.until(() => this.pending.size < WINDOW);
  }

  /** All written and acknowledged, fsynced where the server can, closed (reopened if the connection dropped meanwhile). */
  async finish(): Promise<void> {
    await this.until(() => this.pending.size === 0);
    for (;;) {
      const { s, h } = await this.open(); // an empty object is still a file
      try {
        await onSession(s, promisify<void>((cb) => s.sftp.ext_openssh_fsync(h, cb as never))).catch((e: unknown) => {
          // Servers without fsync@openssh.com: the close below still flushes to the server's cache.
          if (isStatus(e) || !/does not support/i.test((e as Error).message)) throw e;
        });
        await onSession(s, promisify<void>((cb) => s.sftp.close(h, cb as never)));
        return;
      } catch (e) {
        if (isStatus(e) || ++this.reconnects >= this.store.retries()) throw e;
        this.store.drop_(s);
        this.handle = null;
        await sleep(backoffMs(this.reconnects));
      }
    }
  }

  abandon(): void {
    this.failure ??= new Error('abandoned');
    this.handle = null;
  }
}

/**
 * Reads [start, end) of a remote file; a dropped connection is reopened and the read goes on at
 * the byte it reached (ranged, resumable: what restore and verify --deep need for large objects).
 */
class ResumableReader extends Readable {
  private handle: { s: Session; h: Buffer } | null = null;
  private reconnects = 0;

  constructor(
    private readonly store: SftpStore,
    private readonly path: string,
    private pos: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: CHUNK });
    store.hold_();
  }

  override _read(): void {
    void this.next();
  }

  private async next(): Promise<void> {
    if (this.pos >= this.end) return void this.push(null);
    try {
      if (!this.handle) {
        const s = await this.store.session_();
        this.handle = { s, h: await onSession(s, openFile(s.sftp, this.path, 'r')) };
      }
      const { s, h } = this.handle;
      // Several block reads in flight (ssh2 sends one large read as sequential requests).
      const want = Math.min(CHUNK, this.end - this.pos);
      const buf = Buffer.allocUnsafe(want);
      const blocks: Array<Promise<number>> = [];
      for (let off = 0; off < want; off += READ_BLOCK) {
        const len = Math.min(READ_BLOCK, want - off);
        blocks.push(
          new Promise<number>((resolve, reject) =>
            s.sftp.read(h, buf, off, len, this.pos + off, (err, bytes) => (err ? (isStatus(err) && err.code === EOF ? resolve(0) : reject(err)) : resolve(bytes))),
          ),
        );
      }
      const got = await onSession(s, Promise.all(blocks));
      // Bytes up to the first short block are contiguous (a short read means the end of the file).
      let n = 0;
      for (let i = 0; i < got.length; i++) {
        n += got[i]!;
        if (got[i]! < Math.min(READ_BLOCK, want - i * READ_BLOCK)) break;
      }
      if (n === 0) {
        if (this.end !== Infinity) throw new IoError(`${this.store.describe()}: ${this.path} ended at byte ${this.pos}, expected ${this.end}`);
        return void this.push(null);
      }
      this.pos += n;
      this.push(buf.subarray(0, n));
    } catch (e) {
      if (isStatus(e) || e instanceof ToolError || ++this.reconnects >= this.store.retries()) {
        return void this.destroy(e instanceof ToolError ? e : new IoError(`${this.store.describe()}: reading ${this.path} failed: ${oneLine(e)}`));
      }
      if (this.handle) this.store.drop_(this.handle.s);
      this.handle = null;
      await sleep(backoffMs(this.reconnects));
      return this.next();
    }
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    const hd = this.handle;
    this.handle = null;
    if (hd) hd.s.sftp.close(hd.h, () => {});
    this.store.release_();
    cb(err);
  }
}
