import type { Keyspace } from '../keyspace.js';
import { stringCommands } from './strings.js';
import { bitCommands } from './bits.js';
import { hllCommands } from './hyperloglog.js';
import { keyCommands } from './keys.js';
import { listCommands } from './lists.js';
import { setCommands } from './sets.js';
import { zsetCommands } from './zsets.js';
import { hashCommands } from './hashes.js';
import { geoCommands } from './geo.js';
import { streamCommands } from './streams.js';
import { functionCommands } from './functions.js';
import { serverCommands } from './server.js';
import { sortCommands } from './sort.js';

/**
 * One command the engine knows: Redis's arity convention (n exact, -n at least n arguments
 * counting the name) and the handler. `unsupported` names why a known command cannot be replayed.
 */
export interface CommandSpec {
  arity: number;
  run: (ks: Keyspace, argv: Buffer[]) => void;
  unsupported?: string;
}

export type CommandTable = Record<string, CommandSpec>;

export const commandTable = new Map<string, CommandSpec>(
  Object.entries({
    ...stringCommands,
    ...bitCommands,
    ...hllCommands,
    ...keyCommands,
    ...listCommands,
    ...setCommands,
    ...zsetCommands,
    ...hashCommands,
    ...geoCommands,
    ...streamCommands,
    ...functionCommands,
    ...serverCommands,
    ...sortCommands,
  }),
);
