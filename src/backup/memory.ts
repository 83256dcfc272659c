import { collectGarbage } from '../util/collect-garbage.js';

/**
 * Keeps the resident size of a long streaming run flat. Every chunk that passes through the
 * pipeline (read, gzip, OpenPGP, S3 part assembly) is a fresh off-heap Buffer; V8 only collects
 * them once ~64 MB of external memory has piled up, which alone would push a backup past its
 * 200 MB RSS budget. A full collection every few tens of MB costs a few ms each and caps that.
 */

/** Returns a function to call with each chunk's size; it collects every `everyBytes`. */
export function gcEvery(everyBytes = 32 << 20): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    collectGarbage();
  };
}
