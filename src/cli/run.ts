import { InvalidArgumentError } from 'commander';
import { ExitCode, ToolError, oneLine } from '../util/errors.js';
import { redactUrl } from '../net/redis-url.js';

/**
 * Wraps a subcommand action: any failure becomes one line on stderr (secrets redacted) and the
 * documented exit code; nothing ever prints a stack trace to an operator.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? ExitCode.OK;
    } catch (e) {
      const internal = !(e instanceof ToolError);
      process.stderr.write(`tsredis-ops: ${internal ? 'internal error: ' : ''}${redactUrl(oneLine(e))}\n`);
      if (internal && process.env.TSREDIS_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
      process.exitCode = internal ? ExitCode.INTERNAL : e.exitCode;
    }
  };
}

/** Prints one JSON document (the `--json` contract: exactly one object on stdout). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** JSON replacer for values our codecs produce (bigint, Buffer, Map). */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Map) return Object.fromEntries(v);
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return v;
}

/**
 * Parses an integer flag value. Thrown as commander's own InvalidArgumentError so commander prints
 * its one-line "error: option '--db <n>' argument 'x' is invalid" and exits as a usage error.
 */
export function intOption(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`${flag} expects an integer, got "${v}".`);
    return n;
  };
}
