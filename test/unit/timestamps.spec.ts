import fc from 'fast-check';
import { types } from 'pg';
import { dataSourceOptions } from '../../src/database/data-source';
import { TYPE_PARSERS, parseTimestamptz } from '../../src/database/timestamps';

/** pg's own parser (postgres-date), which parseTimestamptz must agree with on every input. */
const general = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text') as (t: string) => Date;

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** A timestamptz as PostgreSQL writes it in a UTC session, with 0 to 6 fraction digits. */
const utcText = fc
  .record({
    year: fc.integer({ min: 100, max: 9999 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    digits: fc.integer({ min: 0, max: 6 }),
    fraction: fc.integer({ min: 0, max: 999_999 }),
  })
  .map((t) => {
    const fraction = t.digits === 0 ? '' : `.${pad(t.fraction % 10 ** t.digits, t.digits)}`;
    return (
      `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)} ` +
      `${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${fraction}+00`
    );
  });

describe('parseTimestamptz', () => {
  it('reads a UTC timestamp as the same instant as postgres-date, to the millisecond', () => {
    fc.assert(
      fc.property(utcText, (text) => {
        expect(parseTimestamptz(text).getTime()).toBe(general(text).getTime());
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    '2026-11-27 07:19:52.123456+00',
    '2026-11-27 07:19:52+00',
    '2026-11-27 07:19:52.999999+00',
    '2026-11-27 07:19:52.29+00',
  ])('reads %s', (text) => {
    expect(parseTimestamptz(text).toISOString()).toBe(general(text).toISOString());
  });

  it.each([
    'infinity',
    '-infinity',
    '0099-06-01 12:00:00+00',
    '2026-11-27 08:19:52.5+01',
    '2026-11-27 02:49:52.5-05:30',
    '12026-11-27 07:19:52+00',
    '2026-11-27 07:19:52+00 BC',
    '2026-11-27T07:19:52+00',
    '2026-11-27 07:19:5x+00',
    '2026-11-27 07:19:52.12a+00',
    '2026-11-27 07:19:52.+00',
  ])('leaves %s to postgres-date', (text) => {
    expect(String(parseTimestamptz(text))).toBe(String(general(text)));
  });

  it("is the pool's parser for timestamptz in text, and pg's for the rest", () => {
    const { TIMESTAMPTZ, TIMESTAMP, INT8 } = types.builtins;
    expect(TYPE_PARSERS.getTypeParser(TIMESTAMPTZ, 'text')).toBe(parseTimestamptz);
    expect(TYPE_PARSERS.getTypeParser(TIMESTAMP, 'text')).toBe(types.getTypeParser(TIMESTAMP));
    expect(TYPE_PARSERS.getTypeParser(INT8, 'text')).toBe(types.getTypeParser(INT8));
    const pool = dataSourceOptions('postgres://localhost/x').extra as { types?: unknown };
    expect(pool.types).toBe(TYPE_PARSERS);
  });
});
