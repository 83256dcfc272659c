import { describe, expect, it } from 'vitest';
import { applyRetention, parseDuration, policyIsEmpty, type RetentionPolicy, type Snapshot } from '../../src/backup/retention.js';

// The input list of restic's TestApplyPolicy (internal/data/snapshot_policy_test.go); expected
// results below are restic's golden files for the same policies.
const RESTIC_INPUT = [
  '2014-09-01 10:20:30', '2014-09-02 10:20:30', '2014-09-05 10:20:30', '2014-09-06 10:20:30', '2014-09-08 10:20:30',
  '2014-09-09 10:20:30', '2014-09-10 10:20:30', '2014-09-11 10:20:30', '2014-09-20 10:20:30', '2014-09-22 10:20:30',
  '2014-08-08 10:20:30', '2014-08-10 10:20:30', '2014-08-12 10:20:30', '2014-08-13 10:20:30', '2014-08-13 10:20:30.1',
  '2014-08-15 10:20:30', '2014-08-18 10:20:30', '2014-08-20 10:20:30', '2014-08-21 10:20:30', '2014-08-22 10:20:30',
  '2014-10-01 10:20:30', '2014-10-02 10:20:30', '2014-10-05 10:20:30', '2014-10-06 10:20:30', '2014-10-08 10:20:30',
  '2014-10-09 10:20:30', '2014-10-10 10:20:30', '2014-10-11 10:20:30', '2014-10-20 10:20:30', '2014-10-22 10:20:30',
  '2014-11-08 10:20:30', '2014-11-10 10:20:30', '2014-11-12 10:20:30', '2014-11-13 10:20:30', '2014-11-13 10:20:30.1',
  '2014-11-15 10:20:30', '2014-11-18 10:20:30', '2014-11-20 10:20:30', '2014-11-21 10:20:30', '2014-11-22 10:20:30',
  '2015-09-01 10:20:30', '2015-09-02 10:20:30', '2015-09-05 10:20:30', '2015-09-06 10:20:30', '2015-09-08 10:20:30',
  '2015-09-09 10:20:30', '2015-09-10 10:20:30', '2015-09-11 10:20:30', '2015-09-20 10:20:30', '2015-09-22 10:20:30',
  '2015-08-08 10:20:30', '2015-08-10 10:20:30', '2015-08-12 10:20:30', '2015-08-13 10:20:30', '2015-08-13 10:20:30.1',
  '2015-08-15 10:20:30', '2015-08-18 10:20:30', '2015-08-20 10:20:30', '2015-08-21 10:20:30', '2015-08-22 10:20:30',
  '2015-10-01 10:20:30', '2015-10-02 10:20:30', '2015-10-05 10:20:30', '2015-10-06 10:20:30', '2015-10-08 10:20:30',
  '2015-10-09 10:20:30', '2015-10-10 10:20:30', '2015-10-11 10:20:30', '2015-10-20 10:20:30', '2015-10-22 10:20:30',
  '2015-10-22 10:20:30', '2015-10-22 10:20:30', '2015-10-22 10:20:30', '2015-10-22 10:20:30',
  '2015-11-08 10:20:30', '2015-11-10 10:20:30', '2015-11-12 10:20:30', '2015-11-13 10:20:30', '2015-11-13 10:20:30.1',
  '2015-11-15 10:20:30', '2015-11-18 10:20:30', '2015-11-20 10:20:30', '2015-11-21 10:20:30', '2015-11-22 10:20:30',
  '2016-01-01 01:02:03', '2016-01-01 01:03:03', '2016-01-01 07:08:03', '2016-01-03 07:02:03', '2016-01-04 10:23:03',
  '2016-01-04 11:23:03', '2016-01-04 12:23:03', '2016-01-04 12:24:03', '2016-01-04 12:28:03', '2016-01-04 12:30:03',
  '2016-01-04 16:23:03', '2016-01-05 09:02:03', '2016-01-06 08:02:03', '2016-01-07 10:02:03', '2016-01-08 20:02:03',
  '2016-01-09 21:02:03', '2016-01-12 21:02:03', '2016-01-12 21:08:03', '2016-01-18 12:02:03',
].map((s, i): Snapshot => ({ name: `s${i}`, time: new Date(`${s.replace(' ', 'T')}Z`) }));

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

function kept(list: Snapshot[], policy: RetentionPolicy, now = new Date('2030-01-01T00:00:00Z')) {
  return applyRetention(list, policy, now)
    .filter((d) => d.keep)
    .map((d) => [iso(d.snapshot.time), d.reasons.join(', ')]);
}

describe('applyRetention matches restic forget', () => {
  it('golden 39: daily 3, weekly 2, monthly all, yearly all', () => {
    expect(kept(RESTIC_INPUT, { daily: 3, weekly: 2, monthly: -1, yearly: -1 })).toEqual([
      ['2016-01-18T12:02:03Z', 'daily snapshot, weekly snapshot, monthly snapshot, yearly snapshot'],
      ['2016-01-12T21:08:03Z', 'daily snapshot, weekly snapshot'],
      ['2016-01-09T21:02:03Z', 'daily snapshot'],
      ['2015-11-22T10:20:30Z', 'monthly snapshot, yearly snapshot'],
      ['2015-10-22T10:20:30Z', 'monthly snapshot'],
      ['2015-09-22T10:20:30Z', 'monthly snapshot'],
      ['2015-08-22T10:20:30Z', 'monthly snapshot'],
      ['2014-11-22T10:20:30Z', 'monthly snapshot, yearly snapshot'],
      ['2014-10-22T10:20:30Z', 'monthly snapshot'],
      ['2014-09-22T10:20:30Z', 'monthly snapshot'],
      ['2014-08-22T10:20:30Z', 'monthly snapshot'],
      ['2014-08-08T10:20:30Z', 'oldest monthly snapshot, oldest yearly snapshot'],
    ]);
  });

  it('golden 27: within 13d23h of the newest snapshot', () => {
    expect(kept(RESTIC_INPUT, { within: parseDuration('13d23h') }).map(([t]) => t)).toEqual([
      '2016-01-18T12:02:03Z', '2016-01-12T21:08:03Z', '2016-01-12T21:02:03Z', '2016-01-09T21:02:03Z',
      '2016-01-08T20:02:03Z', '2016-01-07T10:02:03Z', '2016-01-06T08:02:03Z', '2016-01-05T09:02:03Z',
      '2016-01-04T16:23:03Z',
    ]);
  });

  const snaps = (...times: string[]) => times.map((t, i): Snapshot => ({ name: `n${i}`, time: new Date(t) }));
  const table: Array<{ what: string; policy: RetentionPolicy; input: Snapshot[]; keep: string[] }> = [
    {
      what: 'hourly keeps the newest of each hour, periods without snapshots do not count',
      policy: { hourly: 2 },
      input: snaps('2026-01-01T10:05:00Z', '2026-01-01T10:55:00Z', '2026-01-01T07:30:00Z', '2026-01-01T07:10:00Z', '2026-01-01T03:00:00Z'),
      keep: ['2026-01-01T10:55:00Z', '2026-01-01T07:30:00Z'],
    },
    {
      what: 'the oldest snapshot is kept while a count rule has budget left',
      policy: { daily: 5 },
      input: snaps('2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z', '2026-01-02T08:00:00Z'),
      keep: ['2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z', '2026-01-02T08:00:00Z'],
    },
    {
      what: 'no oldest bonus once the budget is spent',
      policy: { daily: 2 },
      input: snaps('2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z', '2026-01-02T08:00:00Z'),
      keep: ['2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z'],
    },
    {
      what: 'weeks are ISO weeks in UTC (Sunday belongs to the week before Monday)',
      policy: { weekly: 2 },
      input: snaps('2026-01-05T00:30:00Z', '2026-01-04T23:30:00Z', '2026-01-04T01:00:00Z', '2025-12-29T00:00:00Z'),
      keep: ['2026-01-05T00:30:00Z', '2026-01-04T23:30:00Z'],
    },
    {
      what: 'within-daily measures from the newest snapshot, not from now',
      policy: { withinDaily: parseDuration('2d') },
      input: snaps('2020-05-10T12:00:00Z', '2020-05-10T06:00:00Z', '2020-05-09T12:00:00Z', '2020-05-08T12:00:01Z', '2020-05-08T12:00:00Z'),
      keep: ['2020-05-10T12:00:00Z', '2020-05-09T12:00:00Z', '2020-05-08T12:00:01Z'],
    },
    {
      what: 'month arithmetic follows Go AddDate (Mar 31 - 1m = Mar 3)',
      policy: { within: parseDuration('1m') },
      input: snaps('2021-03-31T00:00:00Z', '2021-03-03T00:00:01Z', '2021-03-03T00:00:00Z', '2021-02-28T00:00:00Z'),
      keep: ['2021-03-31T00:00:00Z', '2021-03-03T00:00:01Z'],
    },
    {
      what: 'rules are ORed and last -1 keeps all',
      policy: { last: -1, daily: 1 },
      input: snaps('2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z'),
      keep: ['2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z'],
    },
    {
      what: 'snapshots dated in the future do not move the within window',
      policy: { within: parseDuration('1d') },
      input: snaps('2031-01-01T00:00:00Z', '2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z', '2026-01-01T12:00:00Z'),
      keep: ['2031-01-01T00:00:00Z', '2026-01-03T10:00:00Z', '2026-01-02T12:00:00Z'],
    },
  ];
  for (const c of table) {
    it(c.what, () => {
      expect(kept(c.input, c.policy).map(([t]) => t)).toEqual(c.keep.map((t) => iso(new Date(t))));
    });
  }

  it('300 backups over 90 days, hourly 48 + daily 60', () => {
    // Hourly for the last 48 h, then one backup every ~7 h further back (irregular on purpose).
    const newest = Date.UTC(2026, 2, 31, 23, 17, 0);
    const list: Snapshot[] = [];
    for (let i = 0; i < 300; i++) {
      const t = i < 60 ? newest - i * 3_600_000 : newest - 60 * 3_600_000 - (i - 60) * 7.7 * 3_600_000;
      list.push({ name: `b${i}`, time: new Date(Math.round(t / 1000) * 1000) });
    }
    const result = applyRetention(list, { hourly: 48, daily: 60 }, new Date(newest + 1000));
    // Independent formulation: for each rule, group by UTC period, take the N most recent periods,
    // keep the newest snapshot of each; plus the oldest snapshot if a rule did not spend its budget.
    const expectFor = (key: (d: Date) => string, n: number) => {
      const newestPerPeriod = new Map<string, Snapshot>();
      for (const s of [...list].sort((a, b) => b.time.getTime() - a.time.getTime())) {
        if (!newestPerPeriod.has(key(s.time))) newestPerPeriod.set(key(s.time), s);
      }
      const chosen = [...newestPerPeriod.values()].slice(0, n);
      if (newestPerPeriod.size < n) chosen.push(list.reduce((a, b) => (a.time < b.time ? a : b)));
      return chosen.map((s) => s.name);
    };
    const want = new Set([...expectFor((d) => d.toISOString().slice(0, 13), 48), ...expectFor((d) => d.toISOString().slice(0, 10), 60)]);
    const got = new Set(result.filter((d) => d.keep).map((d) => d.snapshot.name));
    expect(got).toEqual(want);
    expect(got.size).toBeGreaterThan(48 + 40);
    expect(result.length).toBe(300);
    expect(result[0]!.keep).toBe(true);
  });
});

describe('parseDuration', () => {
  it('reads restic durations', () => {
    expect(parseDuration('36h')).toEqual({ years: 0, months: 0, days: 0, hours: 36 });
    expect(parseDuration('1y6m')).toEqual({ years: 1, months: 6, days: 0, hours: 0 });
    expect(parseDuration('2d')).toEqual({ years: 0, months: 0, days: 2, hours: 0 });
  });
  it('rejects junk with a usage error', () => {
    for (const bad of ['', '5', 'h', '2w', '1d ', '-1d']) expect(() => parseDuration(bad)).toThrow(/bad duration/);
  });
  it('knows an empty policy', () => {
    expect(policyIsEmpty({})).toBe(true);
    expect(policyIsEmpty({ within: parseDuration('0h') })).toBe(true);
    expect(policyIsEmpty({ hourly: 1 })).toBe(false);
  });
});
