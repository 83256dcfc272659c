/**
 * A hash: field → value, both held as latin1 strings (a 1:1 byte mapping), with no object or
 * Buffer per field, so a hash of millions of small fields costs about what Redis's dict does.
 * Field TTLs (Redis 7.4 hash-field expiry) live in a second map, made only once a field has one.
 */
export class Hash {
  private readonly values = new Map<string, string>();
  /** Absolute unix ms of the fields that have a TTL. */
  private ttls: Map<string, number> | null = null;

  get size(): number {
    return this.values.size;
  }

  has(field: string): boolean {
    return this.values.has(field);
  }

  /** The value's bytes, or undefined when the field is absent. */
  get(field: string): Buffer | undefined {
    const v = this.values.get(field);
    return v === undefined ? undefined : Buffer.from(v, 'latin1');
  }

  /** Sets a field; its TTL is cleared unless keepTtl (HINCRBY keeps it, HSET does not). */
  set(field: string, value: Buffer, keepTtl = false): void {
    this.values.set(field, value.toString('latin1'));
    if (!keepTtl) this.ttls?.delete(field);
  }

  delete(field: string): boolean {
    this.ttls?.delete(field);
    return this.values.delete(field);
  }

  /** The field's TTL (absolute unix ms), or null. */
  expireAt(field: string): number | null {
    return this.ttls?.get(field) ?? null;
  }

  /** Sets or (null) removes the TTL of an existing field. */
  setExpireAt(field: string, at: number | null): void {
    if (at === null) this.ttls?.delete(field);
    else (this.ttls ??= new Map()).set(field, at);
  }

  /** True when some field has a TTL. */
  get hasTtls(): boolean {
    return this.ttls !== null && this.ttls.size > 0;
  }

  /** True when some field outlives `nowMs`. */
  aliveAt(nowMs: number): boolean {
    if (!this.hasTtls) return this.values.size > 0;
    for (const f of this.values.keys()) {
      const at = this.ttls!.get(f);
      if (at === undefined || at > nowMs) return true;
    }
    return false;
  }

  /** [field, value] as latin1 strings, in insertion order. */
  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  copy(): Hash {
    const h = new Hash();
    for (const [f, v] of this.values) h.values.set(f, v);
    if (this.ttls) h.ttls = new Map(this.ttls);
    return h;
  }
}
