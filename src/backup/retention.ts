import { UsageError } from '../util/errors.js';

/**
 * Retention as a pure function with restic's `forget` semantics (internal/data/snapshot_policy.go),
 * computed in UTC: rules are ORed; each count rule keeps the newest snapshot of each of the N most
 * recent periods that hold snapshots (-1 = all periods); the oldest snapshot is kept while a count
 * rule has budget left; the within rules measure back from the newest snapshot that is not in the
 * future.
 */

/** A calendar duration as restic writes it: `1y6m`, `60d`, `36h` (years, months, days, hours). */
export interface CalendarDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  within?: CalendarDuration;
  withinHourly?: CalendarDuration;
  withinDaily?: CalendarDuration;
  withinWeekly?: CalendarDuration;
  withinMonthly?: CalendarDuration;
  withinYearly?: CalendarDuration;
}

export interface Snapshot {
  name: string;
  time: Date;
}

export interface RetentionDecision<S extends Snapshot> {
  snapshot: S;
  keep: boolean;
  /** Why it is kept (restic's wording); empty when removed. */
  reasons: string[];
}

/** Parses `1y6m`, `60d`, `36h`, `2d12h`; units y, m (months), d, h as restic accepts them. */
export function parseDuration(text: string): CalendarDuration {
  const d: CalendarDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const re = /(\d+)([ymdh])/gy;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    const unit = m[2] as 'y' | 'm' | 'd' | 'h';
    if (unit === 'y') d.years += n;
    else if (unit === 'm') d.months += n;
    else if (unit === 'd') d.days += n;
    else d.hours += n;
    pos = re.lastIndex;
  }
  if (text.length === 0 || pos !== text.length) {
    throw new UsageError(`bad duration "${text}" (expected a number and unit y, m, d or h, e.g. 36h, 2d, 60d, 1y6m)`);
  }
  return d;
}

export function formatDuration(d: CalendarDuration): string {
  const parts = [
    [d.years, 'y'],
    [d.months, 'm'],
    [d.days, 'd'],
    [d.hours, 'h'],
  ].filter(([n]) => n !== 0);
  return parts.length ? parts.map(([n, u]) => `${n}${u}`).join('') : '0h';
}

function isZero(d: CalendarDuration | undefined): boolean {
  return !d || (d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0);
}

/** Go's time.AddDate(-y, -m, -d).Add(-h): Date.UTC normalises overflowing fields the same way. */
export function subtract(t: Date, d: CalendarDuration): number {
  const base = Date.UTC(
    t.getUTCFullYear() - d.years,
    t.getUTCMonth() - d.months,
    t.getUTCDate() - d.days,
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
    t.getUTCMilliseconds(),
  );
  return base - d.hours * 3_600_000;
}

/** ISO 8601 week-numbering year and week, as Go's Time.ISOWeek. */
function isoWeek(t: Date): [number, number] {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const dow = d.getUTCDay() || 7; // Monday=1 … Sunday=7
  d.setUTCDate(d.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return [year, week];
}

type Bucker = (t: Date, nr: number) => number;
const always: Bucker = (_t, nr) => nr;
const ymdh: Bucker = (t) => t.getUTCFullYear() * 1_000_000 + (t.getUTCMonth() + 1) * 10_000 + t.getUTCDate() * 100 + t.getUTCHours();
const ymd: Bucker = (t) => t.getUTCFullYear() * 10_000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate();
const yw: Bucker = (t) => {
  const [y, w] = isoWeek(t);
  return y * 100 + w;
};
const ym: Bucker = (t) => t.getUTCFullYear() * 100 + t.getUTCMonth() + 1;
const y: Bucker = (t) => t.getUTCFullYear();

/** True when the policy has no rule at all (restic then keeps everything; prune refuses). */
export function policyIsEmpty(p: RetentionPolicy): boolean {
  return (
    !p.last && !p.hourly && !p.daily && !p.weekly && !p.monthly && !p.yearly &&
    isZero(p.within) && isZero(p.withinHourly) && isZero(p.withinDaily) && isZero(p.withinWeekly) &&
    isZero(p.withinMonthly) && isZero(p.withinYearly)
  );
}

/**
 * Decides keep/remove for every snapshot, newest first. `now` only matters for ignoring snapshots
 * dated in the future when finding the newest one (as restic does). An empty policy keeps all.
 */
export function applyRetention<S extends Snapshot>(snapshots: readonly S[], policy: RetentionPolicy, now: Date = new Date()): Array<RetentionDecision<S>> {
  // Stable sort, newest first (Array.prototype.sort is stable).
  const list = [...snapshots].sort((a, b) => b.time.getTime() - a.time.getTime());
  if (list.length === 0) return [];
  if (policyIsEmpty(policy)) return list.map((s) => ({ snapshot: s, keep: true, reasons: ['policy is empty'] }));

  const buckets = [
    { count: policy.last ?? 0, bucker: always, last: -1, reason: 'last snapshot' },
    { count: policy.hourly ?? 0, bucker: ymdh, last: -1, reason: 'hourly snapshot' },
    { count: policy.daily ?? 0, bucker: ymd, last: -1, reason: 'daily snapshot' },
    { count: policy.weekly ?? 0, bucker: yw, last: -1, reason: 'weekly snapshot' },
    { count: policy.monthly ?? 0, bucker: ym, last: -1, reason: 'monthly snapshot' },
    { count: policy.yearly ?? 0, bucker: y, last: -1, reason: 'yearly snapshot' },
  ];
  const withinBuckets = [
    { within: policy.withinHourly, bucker: ymdh, last: -1, reason: 'hourly within' },
    { within: policy.withinDaily, bucker: ymd, last: -1, reason: 'daily within' },
    { within: policy.withinWeekly, bucker: yw, last: -1, reason: 'weekly within' },
    { within: policy.withinMonthly, bucker: ym, last: -1, reason: 'monthly within' },
    { within: policy.withinYearly, bucker: y, last: -1, reason: 'yearly within' },
  ];

  let latest = 0;
  for (const s of list) {
    const t = s.time.getTime();
    if (t > latest && t < now.getTime()) latest = t;
  }
  const latestDate = new Date(latest);
  const oldest = list.length - 1;

  return list.map((cur, nr) => {
    const reasons: string[] = [];
    const t = cur.time.getTime();
    if (!isZero(policy.within) && t > subtract(latestDate, policy.within!)) {
      reasons.push(`within ${formatDuration(policy.within!)}`);
    }
    for (const b of buckets) {
      if (b.count > 0 || b.count === -1) {
        const val = b.bucker(cur.time, nr);
        if (val !== b.last || nr === oldest) {
          reasons.push(val === b.last ? `oldest ${b.reason}` : b.reason);
          b.last = val;
          if (b.count > 0) b.count--;
        }
      }
    }
    for (const b of withinBuckets) {
      if (isZero(b.within) || t <= subtract(latestDate, b.within!)) continue;
      const val = b.bucker(cur.time, nr);
      if (val !== b.last || nr === oldest) {
        reasons.push(`${val === b.last ? `oldest ${b.reason}` : b.reason} ${formatDuration(b.within!)}`);
        b.last = val;
      }
    }
    return { snapshot: cur, keep: reasons.length > 0, reasons };
  });
}
