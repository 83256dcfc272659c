import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null = null;

/**
 * Runs a full garbage collection of this thread's heap now. For after a big key: its buffers
 * (a duplicate-member table, member arrays, read windows: tens of MB) are garbage that V8 only
 * collects once about as much again has been allocated, so the next big key's would pile on top
 * of them in the process's peak RSS. A small heap is collected in a few milliseconds.
 */
export function collectGarbage(): void {
  if (gc === null) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
