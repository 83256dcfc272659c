import { FormatError, ToolError, type ExitCodeValue } from './errors.js';

/** An error as data, to cross a worker-thread boundary: the CLI needs the class back (exit code, one line). */
export type SerializedError = { format: [string, number, string] } | { tool: [string, ExitCodeValue] } | { other: string };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof FormatError) return { format: [e.file, e.offset, e.expected] };
  if (e instanceof ToolError) return { tool: [e.message, e.exitCode] };
  return { other: e instanceof Error ? e.message : String(e) };
}

export function deserializeError(s: SerializedError): Error {
  if ('format' in s) return new FormatError(...s.format);
  if ('tool' in s) return new ToolError(...s.tool);
  return new Error(s.other);
}
