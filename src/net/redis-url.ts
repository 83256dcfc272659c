import { readFileSync } from 'node:fs';
import { UsageError } from '../util/errors.js';

/** Where and how to reach a Redis node. The password never goes into `display`. */
export interface RedisEndpoint {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
  /** The URL with any password replaced by "***", fit for logs and errors. */
  display: string;
}

export interface SecretOptions {
  /** File holding the password (first line). */
  passwordFile?: string;
  /** Environment consulted when neither the URL nor a file gives a password. */
  env?: NodeJS.ProcessEnv;
}

/** Removes the password from any redis:// or rediss:// URL inside a string. */
export function redactUrl(text: string): string {
  return text.replace(/(rediss?:\/\/)([^:@/\s]*):([^@/\s]*)@/g, '$1$2:***@');
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://…`. The password comes from, in
 * order: `--password-file`, the URL, `REDISCLI_AUTH`, `TSREDIS_PASSWORD`.
 */
export function parseRedisUrl(url: string, opts: SecretOptions = {}): RedisEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`not a redis URL: ${redactUrl(url)} (expected redis://[user@]host:port)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`not a redis URL: ${redactUrl(url)} (scheme must be redis:// or rediss://)`);
  }
  const env = opts.env ?? process.env;
  let password: string | undefined;
  if (opts.passwordFile) password = readSecretFile(opts.passwordFile);
  else if (u.password) password = decodeURIComponent(u.password);
  else password = env.REDISCLI_AUTH ?? env.TSREDIS_PASSWORD ?? undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const port = u.port ? Number(u.port) : 6379;
  const dbPath = u.pathname.replace(/^\//, '');
  const db = dbPath ? Number(dbPath) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new UsageError(`bad db number in ${redactUrl(url)}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const display = `${u.protocol}//${username ? `${username}@` : ''}${u.host}${dbPath ? `/${dbPath}` : ''}`;
  return { host, port, tls: u.protocol === 'rediss:', username, password, db, display };
}

/** Reads a secret from a file: the first line, without its line ending. */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read secret file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new UsageError(`secret file ${path} is empty`);
  return line;
}
