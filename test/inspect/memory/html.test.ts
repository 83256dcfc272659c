import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from '../../backup/cli-helper.js';
import { startRedis, stopAllRedis } from '../../helpers/redis-server.js';
import { fillMemoryDataset } from './dataset.js';

/** Debian's chromium: .ci/run installs it; without it this test fails (never skips). */
const CHROMIUM = '/usr/bin/chromium';

let work: string;
let browser: BrowserContext | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-memory-html-'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('rdb-memory --html in a real headless chromium', { timeout: 180_000 }, () => {
  it('loads with no network and no console errors; shows the treemap and the tables', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package "chromium" (apt-get install -y chromium; .ci/run does it)`);
    const server = await startRedis();
    const c = await server.client();
    await fillMemoryDataset(c, 0.3);
    await c.call('SAVE');
    c.close();
    const page1 = join(work, 'report.html');
    const r = await cli(['rdb-memory', join(server.dir, 'dump.rdb'), '--html', page1, '--top', '15']);
    expect(r.code).toBe(0);
    await server.stop();
    const html = readFileSync(page1, 'utf8');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);

    // A fresh profile directory (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 1400 },
    });
    const page = await browser.newPage();
    const url = pathToFileURL(page1).href;
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (q) => {
      if (q.url() !== url) requests.push(q.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    const tiles = await page.locator('#treemap .tm').count();
    expect(tiles).toBeGreaterThan(5);
    // The treemap's labelled tiles include the dataset's prefixes.
    const labels = await page.locator('#treemap .tm').allTextContents();
    expect(labels.some((l) => l.startsWith('app:') || l.startsWith('long:') || l.startsWith('svc|'))).toBe(true);
    expect(await page.locator('#topkeys tbody tr').count()).toBe(15);
    expect(await page.locator('#topelems tbody tr').count()).toBe(15);
    expect(await page.locator('#bytype .bar').count()).toBe(6);
    expect(await page.locator('#byenc .bar').count()).toBeGreaterThanOrEqual(10);
    expect(await page.locator('#bydb .bar').count()).toBe(1);
    expect(await page.locator('#ttl tbody tr').count()).toBe(6);
    // The first screen shows the treemap and the first table (what the README's screenshot shows).
    const tm = (await page.locator('#treemap').boundingBox())!;
    const table = (await page.locator('#topkeys').boundingBox())!;
    expect(tm.height).toBeGreaterThan(300);
    expect(tm.width).toBeGreaterThan(1000);
    expect(table.y).toBeLessThan(1400);
    const shot = await page.screenshot({ path: join(work, 'rdb-memory.png') });
    expect(shot.subarray(1, 4).toString()).toBe('PNG');
    expect(shot.length).toBeGreaterThan(50_000);
    // TSREDIS_UPDATE_DOCS=1 refreshes the README's screenshot; a normal run leaves the tree clean.
    if (process.env.TSREDIS_UPDATE_DOCS === '1') copyFileSync(join(work, 'rdb-memory.png'), join(ROOT, 'docs/rdb-memory.png'));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });
});
