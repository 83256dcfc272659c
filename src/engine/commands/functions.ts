import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import type { CommandTable } from './index.js';
import { upper } from '../args.js';

/** The library name from the code's shebang line (`#!lua name=mylib`), as FUNCTION LOAD reads it. */
export function libraryName(code: Buffer): string {
  const nl = code.indexOf(0x0a);
  const first = code.toString('latin1', 0, nl < 0 ? code.length : nl).replace(/\r$/, '');
  if (!first.startsWith('#!')) throw new CommandError('ERR Missing library metadata');
  const parts = first.slice(2).split(' ').filter((p) => p.length);
  let name: string | null = null;
  for (const p of parts.slice(1)) {
    if (p.startsWith('name=')) name = p.slice(5);
    else throw new CommandError(`ERR Invalid metadata value given: ${p}`);
  }
  if (!name) throw new CommandError('ERR Library name was not given');
  return name;
}

function functionCmd(ks: Keyspace, argv: Buffer[]): void {
  const sub = upper(argv[1]!);
  if (sub === 'LOAD') {
    let replace = false;
    let i = 2;
    if (argv[i] && upper(argv[i]!) === 'REPLACE' && argv.length > 3) {
      replace = true;
      i++;
    }
    if (i !== argv.length - 1) throw new CommandError(SYNTAX);
    const code = argv[i]!;
    const name = libraryName(code);
    if (ks.functions.has(name) && !replace) throw new CommandError(`ERR Library '${name}' already exists`);
    ks.functions.set(name, code);
  } else if (sub === 'DELETE') {
    if (argv.length !== 3) throw new CommandError(SYNTAX);
    const name = argv[2]!.toString('latin1');
    if (!ks.functions.delete(name)) throw new CommandError('ERR Library not found');
  } else if (sub === 'FLUSH') {
    ks.functions.clear();
  } else if (sub === 'RESTORE') {
    ks.restoreFunctions(argv.slice(2));
  } else if (sub === 'STATS' || sub === 'LIST' || sub === 'DUMP' || sub === 'HELP' || sub === 'KILL') {
    // Read-only subcommands carry no data change.
  } else throw new CommandError(`ERR unknown subcommand '${argv[1]!.toString('latin1')}'.`);
}

export const functionCommands: CommandTable = {
  function: { arity: -2, run: functionCmd },
};
