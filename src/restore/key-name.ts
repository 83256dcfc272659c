/** A key as text for reports: printable ASCII as is, other bytes as \xHH (the redis-cli convention). */
export function showKey(key: Buffer): string {
  let out = '';
  for (const b of key) {
    if (b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x22) out += String.fromCharCode(b);
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x22) out += '\\"';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
