/**
 * The corpus's `low` variant: encoding thresholds so small that little keys get the big encodings
 * (hashtable, skiplist, multi-node and LZF-compressed quicklists, several stream nodes).
 */
export const LOW_THRESHOLDS = {
  'hash-max-listpack-entries': 4,
  'hash-max-listpack-value': 16,
  'zset-max-listpack-entries': 4,
  'zset-max-listpack-value': 16,
  'set-max-intset-entries': 4,
  'list-max-listpack-size': 4,
  'list-compress-depth': 1,
  'stream-node-max-entries': 5,
};
