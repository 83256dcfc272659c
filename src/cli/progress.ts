import ora, { type Ora } from 'ora';

/**
 * Progress for long work: an ora spinner on a terminal, otherwise quiet (cron logs stay clean;
 * `--json` output is never mixed with progress because the spinner writes to stderr).
 */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /** Plain log line (kept even without a terminal). */
  log(text: string): void;
}

export function startProgress(text: string, opts: { quiet?: boolean } = {}): Progress {
  const tty = process.stderr.isTTY && !opts.quiet && !process.env.CI;
  const spinner: Ora | null = tty ? ora({ text, stream: process.stderr }).start() : null;
  return {
    update: (t) => {
      if (spinner) spinner.text = t;
    },
    succeed: (t) => {
      if (spinner) spinner.succeed(t);
      else if (!opts.quiet) process.stderr.write(`${t}\n`);
    },
    fail: (t) => {
      if (spinner) spinner.fail(t);
      else process.stderr.write(`${t}\n`);
    },
    log: (t) => {
      if (spinner) spinner.clear();
      if (!opts.quiet) process.stderr.write(`${t}\n`);
      if (spinner) spinner.render();
    },
  };
}

/** Human-readable byte count (1.5 GiB). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
