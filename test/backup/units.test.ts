import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { notifyFailure } from '../../src/backup/notify.js';
import { defaultName, policyFrom } from '../../src/backup/options.js';
import { objectNameFor, parseBackupFileName, parseTakenAt, stampOf, stemFor } from '../../src/backup/naming.js';
import { LocalStore } from '../../src/backup/store/local-store.js';

const work = mkdtempSync(join(tmpdir(), 'tsredis-units-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('naming', () => {
  it('formats and parses UTC stems', () => {
    const t = new Date('2026-03-01T04:05:06.789Z');
    expect(stampOf(t)).toBe('20260301T040506Z');
    const stem = stemFor('cache-eu.1', t);
    expect(objectNameFor(stem, true, true)).toBe('cache-eu.1-20260301T040506Z.rdb.gz.gpg');
    expect(objectNameFor(stem, false, false)).toBe('cache-eu.1-20260301T040506Z.rdb');
    expect(parseBackupFileName('cache-eu.1-20260301T040506Z.manifest.json')).toEqual({
      name: 'cache-eu.1',
      stem: 'cache-eu.1-20260301T040506Z',
      takenAt: new Date('2026-03-01T04:05:06Z'),
    });
    expect(parseBackupFileName('cache-eu.1-20260301T040506Z.rdb.gz')?.name).toBe('cache-eu.1');
    expect(parseBackupFileName('cache.last-success.json')).toBeNull();
  });
  it('--taken-at needs a zone and keeps whole seconds', () => {
    expect(parseTakenAt('2026-03-01T05:05:06.9+01:00').toISOString()).toBe('2026-03-01T04:05:06.000Z');
    expect(() => parseTakenAt('2026-03-01 04:05')).toThrow(/time zone/);
    expect(() => parseTakenAt('yesterdayZ')).toThrow(/not an ISO 8601/);
  });
  it('derives a default name from the source without leaking a password', () => {
    expect(defaultName('/var/lib/redis/dump.rdb')).toBe('dump');
    expect(defaultName('bgsave:redis://:secret@10.0.0.5:6380')).toBe('10.0.0.5-6380');
    expect(defaultName('redis://cache.internal')).toBe('cache.internal-6379');
  });
  it('reads the retention policy from flags over the config', () => {
    expect(policyFrom({ keepHourly: 48 }, { retention: { keepDaily: 60, keepWithin: '1y6m' } })).toEqual({
      hourly: 48,
      daily: 60,
      within: { years: 1, months: 6, days: 0, hours: 0 },
    });
    expect(policyFrom({}, {})).toBeUndefined();
    expect(() => policyFrom({ keepWithinDaily: '60 days' })).toThrow(/bad duration/);
  });
});

describe('local store', () => {
  it('puts atomically: a failing body leaves no file, not even a temp file', async () => {
    const store = new LocalStore(join(work, 'store'));
    const ok = await store.put('a.rdb', Readable.from([Buffer.from('hello')]));
    expect(ok).toMatchObject({ size: 5, verifiedBy: 'read-back sha256' });
    expect((await buffer(await store.get('a.rdb'))).toString()).toBe('hello');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('source went away'));
      },
    });
    await expect(store.put('b.rdb', failing)).rejects.toThrow(/source went away/);
    expect(readdirSync(join(work, 'store'))).toEqual(['a.rdb']);
    await expect(store.get('missing.rdb')).rejects.toThrow(/cannot read .*missing.rdb: ENOENT/);
  });
});

describe('failure notification', () => {
  it('runs the hook with the event in env and stdin, and POSTs it to the webhook', async () => {
    let received = '';
    const server = createServer((req, res) => {
      req.on('data', (d: Buffer) => (received += d.toString()));
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const out = join(work, 'hook.txt');
    const ev = { event: 'backup-failed' as const, name: 'cache', source: 'redis://h:1', exitCode: 3, message: 'S3 down', failedTargets: ['s3://b/p'], at: new Date().toISOString() };
    const logs: string[] = [];
    await notifyFailure(ev, { command: `echo "$TSREDIS_NAME $TSREDIS_EXIT_CODE $TSREDIS_FAILED_TARGETS" > ${out}; cat >> ${out}`, webhook: `http://127.0.0.1:${port}/hook`, log: (l) => logs.push(l) });
    server.close();
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toBe('cache 3 s3://b/p');
    expect(JSON.parse(lines[1]!)).toEqual(ev);
    expect(JSON.parse(received)).toEqual(ev);
    expect(logs).toEqual([]);
    // A broken hook or unreachable webhook is logged, never thrown.
    await notifyFailure(ev, { command: 'exit 7', webhook: `http://127.0.0.1:${port}/gone`, log: (l) => logs.push(l) });
    expect(logs[0]).toMatch(/failure hook exited with 7/);
    expect(logs[1]).toMatch(/webhook failed/);
  });
});
