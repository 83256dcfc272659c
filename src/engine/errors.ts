import { ToolError, ExitCode } from '../util/errors.js';

/**
 * A command Redis itself would answer with an error reply (wrong type, bad number, syntax).
 * Redis ignores such replies while loading an AOF and the command has no effect, so the replay
 * counts these and goes on, exactly as the server would.
 */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** A command the engine cannot apply (unknown, module, a script): replay stops unless told to skip. */
export class UnsupportedCommandError extends ToolError {
  constructor(
    readonly command: string,
    why: string,
  ) {
    super(`cannot apply ${command}: ${why}`, ExitCode.DATA);
  }
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const SYNTAX = 'ERR syntax error';
export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const NOT_FLOAT = 'ERR value is not a valid float';

export function wrongArity(name: string): CommandError {
  return new CommandError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}
