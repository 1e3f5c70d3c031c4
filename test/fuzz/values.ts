import fc from 'fast-check';

/**
 * Hostile values, shared by bodies, paths and queries. Constants rather than pure randomness
 * where the interesting inputs are known (boundaries, encodings PostgreSQL refuses), random
 * strings on top for what nobody thought of.
 */

export const KB = 1024;
/** Under the 1 MiB body limit: must reach validation and the service. */
export const BIG = 100 * KB;
/** Over it: must be a 413 in the wire format. */
export const HUGE = 2 * KB * KB;
export const DEPTH = 10_000;
/** A 2 MiB JSON string literal, built once: stringifying it per case costs more than the request. */
export const HUGE_JSON_STRING = `"${'x'.repeat(HUGE)}"`;

export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800', // lone high surrogate: JSON.stringify escapes it, jsonb refuses the escape
  '\udfff',
  'x\ud83d',
  '\ud83d\ude00\ud83c\udfe0\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67',
  '\u202eevil\u202c',
  '\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd',
  '\u200b\u200c\u200d\ufeff',
  'e\u0301'.repeat(60),
  '\uffff\ufffe\u{10ffff}',
  '\r\n\t\u0007\u001b[31m',
  "'; DROP TABLE customers; --",
  '%s%n%x',
  '${7*7}{{7*7}}',
  '../../../etc/passwd',
  '<script>alert(1)</script>',
  '__proto__',
  'null',
  'NaN',
  '-0',
  'APR-',
  '\u00ff'.repeat(300),
];

/** Lone surrogates and control characters mixed in, which fc.string's defaults rarely make. */
const surrogateUnit = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((code) => String.fromCharCode(code));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  // Any code point. Not fc.string's 'binary' unit: it builds a 1.1M-entry reverse map on load.
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 40 })
      .map((codes) => String.fromCodePoint(...codes)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.oneof(surrogateUnit, fc.constant('\u0000')), maxLength: 5 }),
  },
);

/** Long but under the body limit; built once, reused. */
export const BIG_STRINGS = [
  'x'.repeat(BIG),
  '\ud83d\ude00'.repeat(BIG / 4),
  '\u00e9'.repeat(BIG / 2),
];
export const bigString = fc.constantFrom(...BIG_STRINGS);

/** Numbers at and past the limits of a schema; JSON-representable ones. */
export function edgeNumbers(min?: number, max?: number): number[] {
  const out = [0, -0, -1, 0.5, 1.5, 1e308, -1e308, 5e-324, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1];
  out.push(Number.MAX_SAFE_INTEGER, 1e21);
  if (min !== undefined) out.push(min, min - 1, min - 0.5);
  if (max !== undefined) out.push(max, max + 1, max + 0.5);
  return out;
}

/** Number literals only raw JSON text can carry (some valid JSON, some not). */
export const RAW_NUMBERS = [
  '1e999',
  '-1e999',
  '1E2',
  '1.0',
  '-0.0',
  '0.1e1',
  '1'.repeat(400),
  'NaN',
  'Infinity',
  '-Infinity',
  '01',
  '.5',
  '+1',
  '0x10',
];

/** Numbers written as text, the way a careless client sends them. */
export const NUMERIC_STRINGS = [
  'NaN',
  'Infinity',
  '1',
  '1.0',
  ' 1',
  '1e3',
  '0x10',
  '',
  '-0',
  '1,5',
];

/** `DEPTH` levels of arrays or objects, as raw JSON text (JSON.stringify would recurse). */
export function deepJson(kind: 'array' | 'object', depth = DEPTH): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export const MALFORMED_JSON = [
  '{',
  '}',
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}}',
  '{"a":1} trailing',
  '{"a":1}\n{"b":2}',
  '[',
  'nul',
  'tru',
  '{"a":"\\x"}',
  '{"a":"unterminated',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{a:1}',
  '\ufeff{}',
  '\u0000',
  '{"a":"\u0000"}',
  '{"a":1 "b":2}',
  '{"\\ud800":1}',
  '{"a":"\\ud800"}',
  '{"a":"\\udc00\\ud800"}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
];

/** Valid JSON that is not an object: the body of every route must be one. */
export const NON_OBJECT_BODIES = ['[]', '[{}]', '"text"', '1', '-0', 'null', 'true', '""'];

export const BAD_CONTENT_TYPES: (string | null)[] = [
  null, // no header at all
  '',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/json; charset=latin1',
  'application/json;charset=utf-16',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/jsonp',
  'application/json, text/plain',
  '*/*',
  'application/octet-stream',
];

/** Path segments that are not UUIDs (already percent-encoded where they must be). */
export const BAD_PATH_SEGMENTS = [
  'not-a-uuid',
  '0',
  '-1',
  'null',
  'undefined',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '123e4567-e89b-12d3-a456-42661417400', // one character short
  '123e4567-e89b-12d3-a456-4266141740000',
  '{123e4567-e89b-12d3-a456-426614174000}',
  '123e4567e89b12d3a456426614174000',
  'g23e4567-e89b-12d3-a456-426614174000',
  '%00',
  '%F0%9F%98%80',
  '%ED%A0%80', // a surrogate encoded as UTF-8: invalid UTF-8
  '%zz',
  '%',
  '..',
  '%2e%2e',
  '%2F',
  '%20',
  "1'%20OR%20'1'%3D'1",
  'x'.repeat(5000),
];

/** Bad raw query values (percent-encoded already). */
export const BAD_QUERY_VALUES = ['%00', '%zz', '%', '%ED%A0%80', '', '%20', 'x'.repeat(BIG)];

/** Percent-encodes every byte outside the unreserved set; lone surrogates become U+FFFD. */
export function pctEncode(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'), (b) =>
    /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}
