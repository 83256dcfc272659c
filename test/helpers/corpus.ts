import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The shared conformance corpus, read in place: `../shared/corpus/` from the project root (CI
 * clones the project beside shared/). Missing corpus is a loud failure, never a skip.
 */
export const CORPUS = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));

if (!existsSync(CORPUS)) {
  throw new Error(`conformance corpus not found at ${CORPUS} (expected ../shared/corpus beside the project root)`);
}
