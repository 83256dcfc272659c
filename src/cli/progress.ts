import ora, { type Ora } from 'ora';
import { formatBytes } from '../util/format-bytes.js';

export { formatBytes };

/**
 * Progress for long work: an ora spinner on a terminal, otherwise quiet (cron logs stay clean;
 * `--json` output is never mixed with progress because the spinner writes to stderr).
 */
export interface Progress {
  /** New spinner text; cheap to call per chunk (applied at most every RENDER_MS). */
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  /** Removes the spinner without a line (the command's own output says how it went). */
  stop(): void;
  /** Plain log line (kept even without a terminal). */
  log(text: string): void;
}

export interface ProgressOptions {
  /** No spinner, no succeed/log lines (failures still print). */
  quiet?: boolean;
  /**
   * The spinner only: nothing at all unless stderr is a terminal. For commands whose result is
   * their stdout (rdb-check, rdb-dump), where a "done" line on a piped stderr is noise.
   */
  terminalOnly?: boolean;
}

/**
 * ora divides the line's width by the terminal's columns to know how many rows to clear per
 * frame: a terminal that reports 0 columns (`script` without a controlling tty) made it write
 * cursor escapes without end. Below this width there is no room for a progress line anyway.
 */
const MIN_COLUMNS = 20;
/** Frames and text changes at most this often, so progress stays a negligible share of the work. */
const RENDER_MS = 100;

function spinnerFits(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) >= MIN_COLUMNS;
}

export function startProgress(text: string, opts: ProgressOptions = {}): Progress {
  const stream = process.stderr;
  const lines = !opts.quiet && !(opts.terminalOnly && !stream.isTTY);
  let spinner: Ora | null = !opts.quiet && !process.env.CI && spinnerFits(stream) ? ora({ text, stream, interval: RENDER_MS }).start() : null;
  let lastText = 0;
  const end = (): Ora | null => {
    stream.off('resize', onResize);
    const s = spinner;
    spinner = null;
    return s;
  };
  // A terminal resized too narrow (or to 0 columns) ends the spinner before its next frame.
  const onResize = (): void => {
    if (!spinnerFits(stream)) end()?.stop();
  };
  if (spinner) stream.on('resize', onResize);
  return {
    update: (t) => {
      const now = Date.now();
      if (spinner && now - lastText >= RENDER_MS) {
        lastText = now;
        spinner.text = t;
      }
    },
    succeed: (t) => {
      const s = end();
      if (s) s.succeed(t);
      else if (lines) stream.write(`${t}\n`);
    },
    fail: (t) => {
      const s = end();
      if (s) s.fail(t);
      else if (!(opts.terminalOnly && !stream.isTTY)) stream.write(`${t}\n`);
    },
    stop: () => {
      end()?.stop();
    },
    log: (t) => {
      if (spinner) spinner.clear();
      if (!opts.quiet) stream.write(`${t}\n`);
      if (spinner) spinner.render();
    },
  };
}

/** "12.0 MiB of 157.3 MiB" (just the first part when the total is unknown: a pipe). */
export function bytesOf(done: number, total: number | null | undefined): string {
  return `${formatBytes(done)}${total ? ` of ${formatBytes(total)}` : ''}`;
}

