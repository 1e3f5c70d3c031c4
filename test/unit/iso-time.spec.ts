import fc from 'fast-check';
import { isoTime } from '../../src/common/iso-time';

/** The whole range a Date holds: ±100,000,000 days from 1970. */
const EDGE = 8.64e15;

describe('isoTime', () => {
  it('writes every instant exactly as toISOString does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -EDGE, max: EDGE }), (time) => {
        const date = new Date(time);
        expect(isoTime(date)).toBe(date.toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees within the years it writes itself, and at their edges', () => {
    // Date.UTC would read years below 100 as 19xx.
    const [year1, year10000] = [
      Date.parse('0001-01-01T00:00:00Z'),
      Date.parse('+010000-01-01T00:00:00Z'),
    ];
    fc.assert(
      fc.property(fc.integer({ min: year1 - 366 * 86400000, max: year10000 }), (time) => {
        const date = new Date(time);
        expect(isoTime(date)).toBe(date.toISOString());
      }),
      { numRuns: 50_000 },
    );
    for (const text of [
      '0001-01-01T00:00:00.000Z',
      '0099-12-31T23:59:59.999Z',
      '1600-02-29T12:00:00.001Z',
      '1900-02-28T23:59:59.999Z',
      '1900-03-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '2000-02-29T00:00:00.000Z',
      '2026-11-27T07:19:52.123Z',
      '9999-12-31T23:59:59.999Z',
    ]) {
      expect(isoTime(new Date(text))).toBe(text);
    }
    for (const time of [year1 - 1, year10000, Date.parse('-000005-07-01T00:00:00Z')]) {
      expect(isoTime(new Date(time))).toBe(new Date(time).toISOString());
    }
  });

  it('throws for an invalid date, as toISOString does', () => {
    expect(() => isoTime(new Date(NaN))).toThrow(RangeError);
  });
});
