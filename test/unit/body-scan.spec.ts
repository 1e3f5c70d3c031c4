import { scanBody } from '../../src/common/body-scan';
import { jsonBytes } from '../../src/common/json-limits';

describe('scanBody', () => {
  it('points at the first NUL or lone surrogate, in a key or a value, at any depth', () => {
    expect(scanBody({ a: [1, { b: 'x\u0000y' }] }, 'body').text).toEqual({
      loc: ['body', 'a', 1, 'b'],
      msg: 'NUL characters are not allowed',
      type: 'string_nul',
    });
    expect(scanBody({ a: { ['k\uD800']: 1 } }, 'query').text).toMatchObject({
      loc: ['query', 'a', 'k\uD800'],
      type: 'string_unicode',
    });
    expect(scanBody({ ok: '\uD83D\uDE00' }, 'body').text).toBeNull();
  });

  it('keeps the path right after leaving arrays and objects behind', () => {
    const body = { a: [[1, 2], { x: 'fine' }], b: { c: [0, 0, 'bad\u0000'] } };
    expect(scanBody(body, 'body').text?.loc).toEqual(['body', 'b', 'c', 2]);
  });

  it('reports the first unsafe number, and a text problem anywhere before it', () => {
    const unsafe = { n: [1, 2 ** 53 + 2, -Infinity] };
    expect(scanBody(unsafe, 'body')).toEqual({ text: null, unsafeNumber: ['body', 'n', 1] });
    expect(scanBody({ ...unsafe, later: '\u0000' }, 'body').text?.loc).toEqual(['body', 'later']);
    expect(scanBody({ n: Number.MAX_SAFE_INTEGER, m: -0 }, 'body').unsafeNumber).toBeNull();
  });

  it('walks only own keys', () => {
    const inherited = Object.create({ bad: '\u0000' }) as Record<string, unknown>;
    inherited.good = 1;
    expect(scanBody(inherited, 'body').text).toBeNull();
  });
});

describe('jsonBytes', () => {
  it('measures jsonb text, numbers as numeric prints them', () => {
    expect(jsonBytes({ a: [1, 'é', null, true], b: { c: false } })).toBe(
      '{"a": [1, "é", null, true], "b": {"c": false}}'.length + 1, // é is two bytes
    );
    expect(jsonBytes(-123456789)).toBe(10);
    expect(jsonBytes(1.5e-10)).toBe('0.00000000015'.length);
    expect(jsonBytes({ skipped: undefined, kept: 1 })).toBe('{"kept": 1}'.length);
  });

  it('stops past its limit with a figure above it, and is exact within it', () => {
    const big = Array.from({ length: 10_000 }, () => ({}));
    const whole = jsonBytes(big);
    expect(whole).toBe(2 + 2 * 9_999 + 2 * 10_000);
    expect(jsonBytes(big, whole)).toBe(whole);
    const cut = jsonBytes(big, 100);
    expect(cut).toBeGreaterThan(100);
    expect(cut).toBeLessThan(whole);
  });
});
