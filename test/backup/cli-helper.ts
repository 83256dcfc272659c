import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEMO_RDB = `${ROOT}fixtures/demo.rdb`;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds dist/ first). */
export function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: Buffer } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}bin/tsredis-ops.js`, ...args], {
      cwd: ROOT,
      env: { ...process.env, TSREDIS_PASSPHRASE: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Runs gpg with a private home; throws with its stderr when it fails. The gpg-agent it started
 * for that home is stopped (one left per call outlived the suite).
 */
export function gpg(home: string, args: string[], input?: Buffer): Buffer {
  const r = spawnSync('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', ...args], { input, maxBuffer: 1 << 30 });
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
  if (r.status !== 0) throw new Error(`gpg ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}
