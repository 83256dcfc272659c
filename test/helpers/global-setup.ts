import { accessSync, constants } from 'node:fs';
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

export default function setup(): void {
  const missing: string[] = [];
  for (const [bin, pkg] of REQUIRED) {
    if (!onPath(bin)) missing.push(`${bin} (apt-get install -y ${pkg})`);
  }
  if (missing.length) throw new Error(`test prerequisites missing: ${missing.join(', ')}`);
}
