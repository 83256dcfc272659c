/** Decoded RESP2/RESP3 values. Bulk strings stay Buffers so binary data is never altered. */
export type RespValue =
  | string // simple string (+)
  | RespError // error (-) and blob error (!)
  | number // integer (:) and double (,)
  | bigint // big number (()
  | boolean // RESP3 boolean (#)
  | Buffer // bulk (and verbatim =) string
  | null // null bulk / null array / RESP3 null (_)
  | RespValue[] // array (*), set (~) and push (>)
  | RespMap; // RESP3 map (%)

export class RespMap {
  constructor(readonly entries: Array<[RespValue, RespValue]>) {}
}

export class RespError {
  constructor(readonly message: string) {}
  /** The error code, e.g. "WRONGPASS", "NOMASTERLINK", "ERR". */
  get code(): string {
    const sp = this.message.indexOf(' ');
    return sp < 0 ? this.message : this.message.slice(0, sp);
  }
  toString(): string {
    return this.message;
  }
}

/** A parsed frame with where it sat in the stream. */
export interface RespFrame {
  value: RespValue;
  /** Absolute offset of the frame's first byte. */
  offset: number;
  /** Bytes the frame occupied. */
  length: number;
}
