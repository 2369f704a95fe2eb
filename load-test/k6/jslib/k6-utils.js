// A local stand-in for jslib's k6-utils module, as far as the official 2025 test uses it: uuidv4(),
// a random (version 4) UUID in its canonical text form. scripts/k6-official points the official
// script's import of k6-utils here.
import { randomBytes } from "k6/crypto";

const hex = [];
for (let i = 0; i < 256; i++) hex.push((i + 0x100).toString(16).slice(1));

export function uuidv4() {
  const b = new Uint8Array(randomBytes(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx (RFC 4122)
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += "-";
    s += hex[b[i]];
  }
  return s;
}
