/**
 * Errors that reach the operator as one line. Every tool failure is one of these; anything else
 * escaping to the CLI is a bug and is reported as "internal error" (still one line, exit 70).
 */

/** Exit codes shared by all subcommands (documented in README.md "Exit codes"). */
export const ExitCode = {
  OK: 0,
  /** Input is damaged / check failed / verification mismatch. */
  DATA: 1,
  /** Bad flags, missing arguments, unreadable config. */
  USAGE: 2,
  /** A source or target could not be reached (Redis, S3, filesystem). */
  IO: 3,
  /** Wrong passphrase or key, or a secret that is missing. */
  CRYPTO: 4,
  /** Refused for safety (would overwrite data, would shrink a dataset, needs --yes). */
  REFUSED: 5,
  /** The input is of a newer format version than this tool reads (not damaged: upgrade the tool). */
  NEWER_FORMAT: 6,
  /** Interrupted by a signal. */
  INTERRUPTED: 130,
  INTERNAL: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a message fit for one line, and the exit code the CLI should use. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.DATA,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Damaged or unexpected input at a byte offset of a named file or stream. */
export class FormatError extends ToolError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly expected: string,
    /**
     * RDB: a defect inside a key's value or an LZF string, which Redis reports as corrupt data and
     * exits on at once (rdbReportCorruptRDB), where a framing defect, a truncation or a bad
     * checksum makes redis-check-rdb return an error to its caller (redis-check-aof then says
     * "not sane"). Only transcripts that mimic the C tools need the difference.
     */
    readonly corrupt = false,
  ) {
    super(`${file}: at byte ${offset}: ${expected}`, ExitCode.DATA);
  }
}

/**
 * A file of a newer format version than this tool reads. Not a FormatError on purpose: the data is
 * not damaged, so nothing that handles damage (aof-check --fix, "corrupt" verdicts) may act on it.
 */
export class NewerVersionError extends ToolError {
  readonly reason = 'newer-version';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly found: string,
    readonly supported: string,
    /** What to say instead of "<found> is newer than this tool reads" (a type or opcode inside the file). */
    detail?: string,
  ) {
    super(`${file}: at byte ${offset}: ${detail ?? `${found} is newer than this tool reads (${supported}); most likely a newer server wrote it: upgrade tsredis-ops to read it`}`, ExitCode.NEWER_FORMAT);
  }

  /** The `--json` report of a check that stopped here (rdb-check, aof-check). */
  toJson(): { valid: false; file: string; reason: 'newer-version'; error: { offset: number; found: string; supported: string; message: string } } {
    return { valid: false, file: this.file, reason: this.reason, error: { offset: this.offset, found: this.found, supported: this.supported, message: this.message } };
  }
}

export class UsageError extends ToolError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

export class IoError extends ToolError {
  constructor(message: string) {
    super(message, ExitCode.IO);
  }
}

export class CryptoError extends ToolError {
  constructor(message: string) {
    super(message, ExitCode.CRYPTO);
  }
}

export class RefusedError extends ToolError {
  constructor(message: string) {
    super(message, ExitCode.REFUSED);
  }
}

/** Turns any thrown value into one line without a stack trace. */
export function oneLine(err: unknown): string {
  if (err instanceof ToolError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
