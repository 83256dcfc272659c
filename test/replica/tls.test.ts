import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { freePort, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { runReplica, stopAndCompare } from './harness.js';
import { digestOfRdb, runWorkload, settleExpiries } from './helpers.js';

afterAll(stopAllRedis);

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (openssl). */
function makeCerts(dir: string): Record<'ca' | 'caKey' | 'cert' | 'key' | 'clientCert' | 'clientKey', string> {
  const p = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', p('ca.key'), '-out', p('ca.crt'));
  writeFileSync(p('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'replica']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`));
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('san.ext'), '-out', p(`${name}.crt`));
  }
  return { ca: p('ca.crt'), caKey: p('ca.key'), cert: p('server.crt'), key: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key') };
}

describe('replicate over TLS (rediss://) with a CA and a client certificate', () => {
  it('syncs, streams and snapshots through TLS with tls-auth-clients yes', async () => {
    const certs = makeCerts(mkdtempSync(join(tmpdir(), 'tsredis-tls-')));
    const tlsPort = await freePort();
    const master = await startRedis({
      config: {
        'tls-port': tlsPort,
        'tls-cert-file': certs.cert,
        'tls-key-file': certs.key,
        'tls-ca-cert-file': certs.ca,
        'tls-auth-clients': 'yes',
        'repl-diskless-sync-delay': 0,
        'repl-ping-replica-period': 1,
      },
    });
    const c = await master.client();
    const w = await runWorkload(c, 91, 1000);
    const ep = parseRedisUrl(`rediss://127.0.0.1:${tlsPort}`, { env: {} });
    const tls = { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
    const r = runReplica(ep, mkdtempSync(join(tmpdir(), 'tsredis-tls-dir-')), { tls });
    await runWorkload(c, 92, 1000, w);
    await settleExpiries(c, w);
    await stopAndCompare(r, master, c);

    const bin = fileURLToPath(new URL('../../bin/tsredis-ops.js', import.meta.url));
    if (!existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)))) throw new Error('build first: npx tsc -p .');
    const out = join(mkdtempSync(join(tmpdir(), 'tsredis-tls-out-')), 'dump.rdb');
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const ok = spawnSync(process.execPath, [bin, 'snapshot', '--master', url, '--tls-ca', certs.ca, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey, '-o', out], { encoding: 'utf8' });
    expect(ok.stderr).toMatch(/RDB verified/);
    expect(ok.stderr).not.toMatch(/Warning/);
    expect(ok.status).toBe(0);
    const c2 = await master.client();
    expect(await digestOfRdb(out)).toBe(await c2.text('DEBUG', 'DIGEST'));
    // Without the CA the master's certificate is not trusted: a clear I/O error, exit 3.
    const bad = spawnSync(process.execPath, [bin, 'snapshot', '--master', url, '-o', `${out}.2`], { encoding: 'utf8' });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/cannot connect/);
    c.close();
    c2.close();
    await master.stop();
  });
});
