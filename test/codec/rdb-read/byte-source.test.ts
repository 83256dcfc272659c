import { describe, expect, it } from 'vitest';
import { ByteSource } from '../../../src/util/byte-source.js';

/** The window parsers work on: views stay valid while it grows, and `fill` waits only on bounded sources. */

describe('ByteSource', () => {
  it('keeps every view it gave unchanged while the window grows in place chunk by chunk', async () => {
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff));
    async function* gen(): AsyncGenerator<Buffer> {
      for (let i = 0; i < data.length; i += 1000) yield data.subarray(i, i + 1000);
    }
    const src = ByteSource.fromStream(gen(), 'g');
    const views: Array<[number, Buffer]> = [];
    // A parser that consumes a little and keeps asking for one byte more than it has: the window
    // keeps a tail and grows by appending (the case that copied the whole window per chunk).
    while ((await src.ensure(src.available + 1)) || src.available > 0) {
      const at = src.offset;
      const v = await src.read(Math.min(37, src.available));
      views.push([at, v]);
    }
    let total = 0;
    for (const [at, v] of views) {
      expect(v.equals(data.subarray(at, at + v.length))).toBe(true);
      total += v.length;
    }
    expect(total).toBe(data.length);
  });

  it('fill waits for `max` on a bounded source and takes only what has arrived on a live one', async () => {
    let release: () => void = () => {};
    const later = new Promise<void>((r) => (release = r));
    const make = (bounded: boolean) =>
      ByteSource.fromStream(
        (async function* () {
          yield Buffer.alloc(10);
          await later;
          yield Buffer.alloc(10);
        })(),
        'g',
        bounded,
      );
    const live = make(false);
    expect(await live.fill(5, 20)).toBe(true);
    expect(live.available).toBe(10);
    const bounded = make(true);
    const filled = bounded.fill(5, 20);
    setTimeout(release, 20);
    expect(await filled).toBe(true);
    expect(bounded.available).toBe(20);
  });
});
