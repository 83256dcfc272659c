import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_RDB, cli } from '../backup/cli-helper.js';

/** `list --help` and `verify --help` teach by example, and their directory examples really run. */

const work = mkdtempSync(join(tmpdir(), 'tsredis-help-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The example command lines of a --help text (continuation lines joined). */
function examples(help: string): string[] {
  const at = help.indexOf('\nExamples');
  expect(at, 'an Examples section').toBeGreaterThan(0);
  return help
    .slice(at)
    .replace(/\\\n\s+/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('tsredis-ops '));
}

describe('help with examples', () => {
  it('list and verify: examples of their own command; the plain directory ones run', async () => {
    const target = join(work, 'backups');
    const b = await cli(['backup', '--from', DEMO_RDB, '--to', target, '--name', 'cache-01', '--no-encrypt']);
    expect(b.code, b.stderr).toBe(0);
    for (const cmd of ['list', 'verify']) {
      const help = await cli([cmd, '--help']);
      expect(help.code).toBe(0);
      const ex = examples(help.stdout);
      expect(ex.length, cmd).toBeGreaterThanOrEqual(3);
      for (const line of ex) expect(line.startsWith(`tsredis-ops ${cmd} `), line).toBe(true);
      expect(help.stdout).not.toMatch(/--passphrase\s+\S/); // secrets never as arguments
      // Examples on /srv/backups/redis without a pipe, a config or a secret: run them on our target.
      const runnable = ex.filter((l) => l.includes('/srv/backups/redis') && !/[|]|--config|--identity|--passphrase-file|\d{8}T/.test(l));
      expect(runnable.length, cmd).toBeGreaterThanOrEqual(1);
      for (const line of runnable) {
        const args = line.replace(/\s+#.*$/, '').split(/\s+/).slice(1).map((a) => (a === '/srv/backups/redis' ? target : a));
        const r = await cli(args);
        expect(r.code, `${line}: ${r.stderr}`).toBe(0);
        expect(r.stdout + r.stderr).toContain('cache-01-');
      }
    }
  });
});
