import { describe, expect, it } from 'vitest';
import { List } from '../../src/engine/list.js';
import { rng } from './workload.js';

describe('engine List (deque behind LPUSH/RPUSH/LPOP/RPOP)', () => {
  it('matches a plain array under a seeded mix of pushes, pops, sets and rebuilds', () => {
    const r = rng(99);
    const list = List.from([]);
    const model: Buffer[] = [];
    for (let i = 0; i < 50_000; i++) {
      const op = Math.floor(r() * 6);
      const v = Buffer.from(`v${i}`);
      if (op === 0) {
        list.pushFront(v);
        model.unshift(v);
      } else if (op === 1 || op === 2) {
        list.pushBack(v);
        model.push(v);
      } else if (op === 3) {
        const n = Math.floor(r() * 4);
        expect(list.popFront(n)).toEqual(model.splice(0, n));
      } else if (op === 4) {
        const n = Math.floor(r() * 3);
        expect(list.popBack(n)).toEqual(model.splice(Math.max(0, model.length - n), n).reverse());
      } else if (model.length) {
        const at = Math.floor(r() * model.length);
        list.set(at, v);
        model[at] = v;
        if (r() < 0.01) list.replace(list.toArray());
      }
      expect(list.length).toBe(model.length);
    }
    expect(list.toArray()).toEqual(model);
  });
});
