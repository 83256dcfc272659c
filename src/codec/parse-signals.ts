/**
 * Signals the restartable synchronous parsers (RESP, RDB) throw inside a parse of the current
 * window. They are not errors for the operator: the streaming driver turns them into "read more
 * and parse again" or into a FormatError at the absolute offset.
 */

/** The window ended; `need` = window length required before parsing again. */
export class NeedMore {
  constructor(readonly need: number) {}
}

/**
 * Bad bytes; `at` is a window index, `expected` says what should have been there. `corrupt`: a
 * defect Redis reports as corrupt data wherever it is (an LZF string), see FormatError.corrupt.
 */
export class BadData {
  constructor(
    readonly at: number,
    readonly expected: string,
    readonly corrupt = false,
  ) {}
}
