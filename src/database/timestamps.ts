import { types } from 'pg';

const TIMESTAMPTZ: number = types.builtins.TIMESTAMPTZ;
/** pg's own parser for a `timestamptz`: postgres-date, for every form the server may send. */
const general = types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => Date;

const SCALE = [1, 10, 100, 1000, 10000, 100000, 1000000];

/** The decimal number written in `text` from `from` to `to`, or -1 if anything there is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** `YYYY-MM-DD HH:MM:SS`'s separators, where they must be. */
const separated = (text: string) =>
  text.charCodeAt(4) === 45 &&
  text.charCodeAt(7) === 45 &&
  text.charCodeAt(10) === 32 &&
  text.charCodeAt(13) === 58 &&
  text.charCodeAt(16) === 58;

/**
 * A `timestamptz` as a session in UTC sends it (`2026-11-27 07:19:52.123456+00`), read by hand;
 * any other form (another offset, a year before 100 or past 9999, BC, infinity) goes to pg's
 * parser. A page of twenty workflows carries about eighty timestamps: 55 µs of the list's CPU
 * with postgres-date's regular expressions, 15 µs here, for the same instants (a property test
 * checks them against postgres-date). The fraction becomes milliseconds as postgres-date makes
 * them, `1000 × 0.ffffff` truncated by the Date, so both agree to the bit.
 */
export function parseTimestamptz(text: string): Date {
  const n = text.length;
  if (n < 22 || n > 29 || !text.endsWith('+00') || !separated(text)) return general(text);
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  // Date.UTC reads a year below 100 as 19xx (postgres-date corrects for it); -1: not a digit.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
    return general(text);
  }
  let ms = 0;
  if (n > 22) {
    const fraction = n > 23 && text.charCodeAt(19) === 46 ? digits(text, 20, n - 3) : -1;
    if (fraction < 0) return general(text);
    ms = 1000 * (fraction / SCALE[n - 23]);
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
}

/**
 * The pool's type parsers: pg's own, but `timestamptz` in text through parseTimestamptz. Per
 * pool, not pg's process-wide registry.
 */
export const TYPE_PARSERS = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ && format !== 'binary'
      ? parseTimestamptz
      : types.getTypeParser(oid, format ?? 'text')) as typeof types.getTypeParser,
};
