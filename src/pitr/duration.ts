import { parseDuration, subtract } from '../backup/retention.js';

/** A span in ms: restic-style calendar durations (36h, 7d, 1y6m) or whole seconds ("90s"). */
export function spanMs(text: string, now = new Date()): number {
  const secs = /^(\d+)s$/.exec(text);
  return secs ? Number(secs[1]) * 1000 : now.getTime() - subtract(now, parseDuration(text));
}
