import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/run-backup.js';
import { DEMO_RDB, cli } from './cli-helper.js';
import { startS3, type TestS3 } from './s3-server.js';

// 300 backups labelled with --taken-at across 90 days: hourly for the newest 48 h, then every
// ~7 h (irregular), pruned with "hourly within 48h + daily within 60d" on a directory and on S3.
const NEWEST = Date.UTC(2026, 2, 31, 22, 40, 0);
const TIMES: Date[] = [];
for (let i = 0; i < 300; i++) {
  const t = i < 48 ? NEWEST - i * 3_600_000 : NEWEST - 48 * 3_600_000 - (i - 47) * 6.98 * 3_600_000;
  TIMES.push(new Date(Math.floor(t / 1000) * 1000));
}

/** What restic keeps for --keep-within-hourly 48h --keep-within-daily 60d, written out independently. */
function expected(): Set<string> {
  const sorted = [...TIMES].sort((a, b) => b.getTime() - a.getTime());
  const newest = sorted[0]!.getTime();
  const keep = new Set<string>();
  const newestOfPeriod = (from: number, key: (d: Date) => string) => {
    const seen = new Set<string>();
    for (const t of sorted) {
      if (t.getTime() <= from) continue;
      if (!seen.has(key(t))) {
        seen.add(key(t));
        keep.add(t.toISOString());
      }
    }
  };
  newestOfPeriod(newest - 48 * 3_600_000, (d) => d.toISOString().slice(0, 13));
  newestOfPeriod(newest - 60 * 86_400_000, (d) => d.toISOString().slice(0, 10));
  return keep;
}

const stamp = (iso: string) => `prod-${iso.replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')}`;

let s3: TestS3;
let work: string;
beforeAll(async () => {
  s3 = await startS3();
  Object.assign(process.env, s3.env);
  work = mkdtempSync(join(tmpdir(), 'tsredis-prune-'));
});
afterAll(async () => {
  await s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});

describe('prune end to end', () => {
  it('keeps exactly what restic keeps, on a directory and on S3', { timeout: 240_000 }, async () => {
    const dir = join(work, 'dir');
    const s3Target = 's3://backups/prune';
    for (let i = 0; i < TIMES.length; i += 10) {
      const outs = await Promise.all(
        TIMES.slice(i, i + 10).map((takenAt) =>
          runBackup({ name: 'prod', source: DEMO_RDB, targets: [dir], compression: 'gzip', encryption: { mode: 'none' }, takenAt }),
        ),
      );
      for (const out of outs) expect(out.ok, JSON.stringify(out.targets)).toBe(true);
    }
    // The same 600 files on S3, uploaded with the SDK (the backup path itself is tested elsewhere).
    const files = readdirSync(dir).filter((f) => f.startsWith('prod-'));
    const client = s3.client();
    for (let i = 0; i < files.length; i += 25) {
      await Promise.all(
        files.slice(i, i + 25).map((f) => client.send(new PutObjectCommand({ Bucket: 'backups', Key: `prune/${f}`, Body: readFileSync(join(dir, f)) }))),
      );
    }
    const want = expected();
    expect(want.size).toBeGreaterThan(48 + 50);
    expect(want.size).toBeLessThan(150);
    const wantStems = [...want].map(stamp).sort();

    for (const target of [dir, s3Target]) {
      const env = { AWS_ENDPOINT_URL: s3.endpoint };
      const args = ['prune', '--target', target, '--s3-path-style', '--keep-within-hourly', '48h', '--keep-within-daily', '60d', '--json'];
      const dry = await cli([...args, '--dry-run'], { env });
      expect(dry.code, dry.stderr).toBe(0);
      const report = JSON.parse(dry.stdout);
      expect(report.decisions).toHaveLength(300);
      expect(report.removed).toEqual([]);
      const kept = report.decisions.filter((d: { keep: boolean }) => d.keep);
      expect(kept.map((d: { object: string }) => d.object.replace('.rdb.gz', '')).sort()).toEqual(wantStems);
      expect(kept[0].reasons).toEqual(['hourly within 48h', 'daily within 60d']);
      expect(report.decisions.filter((d: { keep: boolean; reasons: string[] }) => !d.keep && d.reasons.length > 0)).toEqual([]);

      const real = await cli(args, { env });
      expect(real.code, real.stderr).toBe(0);
      expect(JSON.parse(real.stdout).removed).toHaveLength(300 - want.size);
      const list = JSON.parse((await cli(['list', '--target', target, '--s3-path-style', '--json'], { env })).stdout);
      expect(list.backups.map((b: { object: string }) => b.object.replace('.rdb.gz', '')).sort()).toEqual(wantStems);
      expect(list.incomplete).toEqual([]);
    }
    // Nothing but the kept pairs and the marker is left in the directory.
    expect(readdirSync(dir).length).toBe(want.size * 2 + 1);
  });
});
