import { latin1, type EntryVisitor } from './blob-error.js';
import { isCanonicalScore, packedScore } from './score-text.js';
import { UniqueBytes } from './unique-bytes.js';

/** An EntryVisitor that takes zset scores as numbers (parsed once, by the check) instead of as elements. */
export interface ElementSink extends EntryVisitor {
  score(x: number): void;
  /** A score stored as text that formatScore would print unchanged (isCanonicalScore): never parsed. */
  scoreText(b: Buffer, start: number, end: number): void;
  /**
   * False while the sink has no use for the current value's scores (a memory estimate of a zset
   * kept as stored): packed scores stored as text are then neither parsed nor handed over.
   * Absent means true.
   */
  readonly wantsScores?: boolean;
}

const DUPLICATE = 'unique members/fields, found a duplicate';

/**
 * Validation without decoding (rdb-check): checks that every `stride`-th element (members, fields)
 * is unique; with `scores`, the element after each is a score (any text: strtod reads it). A
 * `next` sink gets the elements, and the scores as numbers.
 */
export class CheckVisitor implements EntryVisitor {
  private index = 0;
  private readonly seen = new UniqueBytes();
  private next: ElementSink | null = null;
  /** Set when a check fails: what was expected. */
  problem: string | null = null;

  constructor(
    private readonly stride: number,
    private readonly scores: boolean,
  ) {}

  /** Starts a new blob; `next` (if any) receives every element after it is checked. */
  reset(next: ElementSink | null = null): this {
    this.index = 0;
    this.seen.reset();
    this.problem = null;
    this.next = next;
    return this;
  }

  str(blob: Buffer, start: number, end: number): void {
    const pos = this.position();
    if (pos === 1 && this.scores) {
      // Any text is a score to Redis (strtod, 0 without a number, even NaN): nothing to check, and
      // nothing to read unless a sink wants it. Most stored scores are in canonical form already.
      const next = this.next;
      if (next === null || next.wantsScores === false) return;
      if (isCanonicalScore(blob, start, end)) next.scoreText(blob, start, end);
      else next.score(packedScore(latin1(blob, start, end)));
      return;
    }
    if (pos === 0 && !this.seen.add(blob, start, end)) this.problem ??= DUPLICATE;
    this.next?.str(blob, start, end);
  }

  int(v: number | bigint): void {
    const pos = this.position();
    if (pos === 1 && this.scores) {
      this.next?.score(Number(v));
      return;
    }
    if (pos === 0 && !this.seen.addInt(v)) this.problem ??= DUPLICATE;
    this.next?.int(v);
  }

  /** The next element's place in its stride (0: a member or field, 1: what follows it), -1 without one. */
  private position(): number {
    const i = this.index++;
    return this.stride === 0 ? -1 : i % this.stride;
  }
}
