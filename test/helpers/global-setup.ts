import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

// The suite uses real programs; a missing one fails the run loudly with the package to install.
const REQUIRED: Array<[string, string]> = [
  ['redis-server', 'redis-server'],
  ['redis-cli', 'redis-tools'],
  ['redis-check-aof', 'redis-server'],
  ['redis-check-rdb', 'redis-server'],
  ['gpg', 'gnupg'],
];

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export default function setup(): () => void {
  const missing: string[] = [];
  for (const [bin, pkg] of REQUIRED) {
    if (!onPath(bin)) missing.push(`${bin} (apt-get install -y ${pkg})`);
  }
  if (missing.length) throw new Error(`test prerequisites missing: ${missing.join(', ')}`);
  // Every temp dir of the run (test files, servers, gpg, the CLIs they spawn) goes under one dir,
  // removed at the end: a run leaves ~250 MB of data dirs and dumps behind otherwise.
  const dir = mkdtempSync(join(tmpdir(), 'tsredis-suite-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
