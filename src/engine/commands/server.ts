import type { CommandTable } from './index.js';

const noop = (): void => {};
const script = 'a script in the stream (Redis < 7.0 could replicate scripts verbatim); its effects cannot be replayed without a Lua engine';

/** Commands a stream carries that change no data, and the script commands the engine refuses. */
export const serverCommands: CommandTable = {
  ping: { arity: -1, run: noop },
  replconf: { arity: -1, run: noop },
  publish: { arity: 3, run: noop },
  spublish: { arity: 3, run: noop },
  // SCRIPT LOAD / FLUSH only touch the script cache, which is not part of the dataset.
  script: { arity: -2, run: noop },
  eval: { arity: -3, run: noop, unsupported: script },
  evalsha: { arity: -3, run: noop, unsupported: script },
  eval_ro: { arity: -3, run: noop, unsupported: script },
  evalsha_ro: { arity: -3, run: noop, unsupported: script },
  fcall: { arity: -3, run: noop, unsupported: 'FCALL in the stream; Redis propagates the commands a function runs, not the call' },
};
