import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

/**
 * Runs a full garbage collection of this thread's heap now (nothing when the runtime refuses
 * --expose-gc). For after a big key or a few tens of MB of streamed chunks: large off-heap
 * buffers are garbage that V8 only collects once about as much again has been allocated, so
 * they would pile up in the process's peak RSS. A small heap is collected in a few milliseconds.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
