/**
 * Identifiers the service makes: 10 characters of milliseconds then 16 of randomness, in
 * lowercase Crockford base32 (26 characters, matching the protocol's `Id`). Sorting ids sorts by
 * creation, so "oldest queued build" and "newest first" are `ORDER BY id`, and the cursor of a
 * build list is simply the last id seen. Within one millisecond the random part counts up
 * (ULID's monotonic rule), so ids made by one process never tie and keep their order.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RANDOM_BITS = 80n;

let lastTime = -1;
let lastRandom = 0n;

function encode(value: bigint, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** A new id; `now` (ms since the epoch) only for tests. */
export function newId(now = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`);
  } else {
    // Same millisecond (or a clock that stepped back): count up from the last id instead.
    lastRandom = (lastRandom + 1n) & ((1n << RANDOM_BITS) - 1n);
  }
  return encode(BigInt(lastTime), 10) + encode(lastRandom, 16);
}

/** The creation time (ms since the epoch) an id carries. */
export function idTime(id: string): number {
  let value = 0;
  for (const c of id.slice(0, 10)) value = value * 32 + ALPHABET.indexOf(c);
  return value;
}
