import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * A UUID of version 7: the first 48 bits are the time in milliseconds, so ids sort by when they
 * were made. Within one millisecond a counter keeps the ids of this process in order; ids of
 * two replicas in the same millisecond sort by their random bits. Returns the time it encodes
 * too, for a row that shows it beside the id.
 */
export function timeOrderedId(): { id: string; at: Date } {
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      ms = ++lastMs; // 4,096 ids in one millisecond: borrow the next one
      counter = 0;
    }
  } else {
    lastMs = ms;
    counter = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  const hex = b.toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, at: new Date(ms) };
}
