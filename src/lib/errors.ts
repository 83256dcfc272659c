/** Errors the codecs throw: one line naming the input, the byte offset and what was expected. */
export { ToolError, FormatError, NewerVersionError, ExitCode, type ExitCodeValue } from '../util/errors.js';
