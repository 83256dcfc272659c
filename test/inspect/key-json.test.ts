import { describe, expect, it } from 'vitest';
import { RdbType } from '../../src/codec/rdb/constants.js';
import { keyJsonLine } from '../../src/inspect/key-json.js';

// The line head is assembled from pre-encoded pieces (per database, per type, with and without a
// TTL): it must read back as the ground truth's per-key object, in its field order.
describe('keyJsonLine', () => {
  it('writes db, key, key_base64, type and expire_at_ms for any database and TTL', () => {
    for (const db of [0, 9, 15, 16, 300]) {
      for (const expireAtMs of [null, 1767225600123]) {
        const line = keyJsonLine({ offset: 0, db, key: Buffer.from('k\u00e9y'), expireAtMs, rdbType: RdbType.STRING, value: { type: 'string', value: Buffer.from('v') } }, 'utf8');
        expect(Object.entries(JSON.parse(line))).toEqual([['db', db], ['key', 'k\u00e9y'], ['type', 'string'], ['expire_at_ms', expireAtMs], ['value', 'v']]);
      }
      const bin = keyJsonLine({ offset: 0, db, key: Buffer.from([0xff, 0x00]), expireAtMs: null, rdbType: RdbType.SET, value: { type: 'set', value: [Buffer.from('m')] } }, 'utf8');
      expect(Object.entries(JSON.parse(bin))).toEqual([['db', db], ['key', '/wA='], ['key_base64', true], ['type', 'set'], ['expire_at_ms', null], ['value', ['m']]]);
    }
  });
});
