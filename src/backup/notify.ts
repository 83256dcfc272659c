import { spawn } from 'node:child_process';
import { oneLine } from '../util/errors.js';

/** What a failure hook or webhook receives (also as JSON on the hook's stdin). */
export interface FailureEvent {
  event: 'backup-failed';
  name: string;
  source: string;
  exitCode: number;
  message: string;
  failedTargets: string[];
  at: string;
}

/**
 * Environment variables that hold secrets this tool reads (passphrase, Redis password, the S3
 * credentials): a hook is the operator's shell code, often `env`-logging or mailing its
 * environment, so it never inherits them. A hook that needs AWS uses its own profile or role
 * (AWS_PROFILE, instance credentials stay).
 */
const SECRET_ENV = ['TSREDIS_PASSPHRASE', 'REDISCLI_AUTH', 'TSREDIS_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'TSREDIS_SSH_KEY_PASSPHRASE'] as const;

/** The environment without SECRET_ENV. */
export function hookEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of SECRET_ENV) delete out[k];
  return out;
}

/**
 * Makes a failure reach a person: runs `--on-failure CMD` through /bin/sh with the event in its
 * environment (secrets removed: SECRET_ENV) and on stdin, and/or POSTs it as JSON to `--webhook URL`. Never throws: a broken
 * hook is logged, the run's own exit code still tells cron.
 */
export async function notifyFailure(ev: FailureEvent, opts: { command?: string; webhook?: string; log: (line: string) => void }): Promise<void> {
  const body = JSON.stringify(ev);
  if (opts.command) {
    await new Promise<void>((resolve) => {
      const child = spawn('/bin/sh', ['-c', opts.command!], {
        stdio: ['pipe', 'inherit', 'inherit'],
        env: {
          ...hookEnv(),
          TSREDIS_EVENT: ev.event,
          TSREDIS_NAME: ev.name,
          TSREDIS_EXIT_CODE: String(ev.exitCode),
          TSREDIS_MESSAGE: ev.message,
          TSREDIS_FAILED_TARGETS: ev.failedTargets.join(' '),
        },
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', (e) => {
        opts.log(`failure hook could not run: ${oneLine(e)}`);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code !== 0) opts.log(`failure hook exited with ${code}`);
        resolve();
      });
      child.stdin.on('error', () => {});
      child.stdin.end(body);
    });
  }
  if (opts.webhook) {
    try {
      const res = await fetch(opts.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      if (!res.ok) opts.log(`webhook answered HTTP ${res.status}`);
    } catch (e) {
      opts.log(`webhook failed: ${oneLine(e)}`);
    }
  }
}
