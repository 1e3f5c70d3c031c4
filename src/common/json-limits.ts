import { ValidateBy } from 'class-validator';
import { RequestValidationError } from './errors';

export const KiB = 1024;

/**
 * Caps on stored free-form JSON, in bytes of the text PostgreSQL keeps and sends for it (see
 * jsonBytes). They bound what one row can make the API read, parse and send: a page of 100
 * workflows, a rule set, an event.
 */
export const JSON_CAPS = {
  workflowState: 256 * KiB,
  /** suspended_payload, resume_data and a history entry's action_detail. */
  workflowDetail: 64 * KiB,
  serializedIntent: 64 * KiB,
  eventPayload: 64 * KiB,
} as const;

/**
 * A value's size as jsonb's text: what the database stores, sends and the API passes on, which
 * is not JSON.stringify's. jsonb writes ": " and ", " between members, and a number as the
 * decimal PostgreSQL's numeric prints: "5e-324" is six bytes to JavaScript and 326 to jsonb, so
 * a cap measured in JavaScript's terms could be passed by a factor of fifty.
 */
export function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'boolean':
      return value ? 4 : 5;
    case 'number':
      return numberBytes(value);
    case 'string':
      return Buffer.byteLength(JSON.stringify(value));
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let bytes = 2 + 2 * Math.max(0, value.length - 1);
        for (const item of value) bytes += jsonBytes(item);
        return bytes;
      }
      const members = Object.entries(value).filter(([, item]) => item !== undefined);
      let bytes = 2 + 2 * Math.max(0, members.length - 1);
      for (const [key, item] of members)
        bytes += Buffer.byteLength(JSON.stringify(key)) + 2 + jsonBytes(item);
      return bytes;
    }
    default:
      return 4; // undefined and the like are written as null
  }
}

/** A number as numeric's text: the shortest JavaScript form, its exponent written out. */
function numberBytes(value: number): number {
  const text = JSON.stringify(value) ?? 'null';
  const exponent = /^(-?)(\d)(?:\.(\d+))?e([+-])(\d+)$/.exec(text);
  if (!exponent) return text.length;
  const [, sign, first, rest = '', direction, power] = exponent;
  const digits = 1 + rest.length;
  // 1.5e-10 is 0.00000000015; 1e+21 is 1 and 21 zeros (refused elsewhere as unsafe).
  return direction === '-'
    ? sign.length + 2 + Number(power) - 1 + digits
    : sign.length + first.length + Math.max(Number(power), rest.length);
}

const describe = (bytes: number) => (bytes % KiB === 0 ? `${bytes / KiB} KiB` : `${bytes} bytes`);

export const jsonTooLargeMessage = (max: number) =>
  `JSON value larger than ${describe(max)} (${max} bytes)`;

/** Class-validator check for a free-form JSON field: at most `max` bytes. */
export function MaxJsonBytes(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'maxJsonBytes',
    validator: {
      validate: (value: unknown) => value === undefined || jsonBytes(value) <= max,
      defaultMessage: () => jsonTooLargeMessage(max),
    },
  });
}

/** The same check for a value computed from the request (a merged state): 422 at `loc`. */
export function assertJsonBytes(value: unknown, max: number, loc: (string | number)[]): void {
  if (jsonBytes(value) > max) {
    throw RequestValidationError.at(loc, jsonTooLargeMessage(max), 'json_too_large');
  }
}

/**
 * The first number a JSON text held that a double cannot carry exactly: past ±(2^53 − 1), where
 * neighbouring integers collapse into one, or overflowed to ±Infinity. By the time the body is
 * parsed it has already been rounded, so it is refused rather than stored changed.
 */
export function findUnsafeNumber(
  value: unknown,
  loc: (string | number)[],
): (string | number)[] | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? null : loc;
  }
  if (value === null || typeof value !== 'object') return null;
  const array = Array.isArray(value);
  for (const key of Object.keys(value)) {
    const found = findUnsafeNumber((value as Record<string, unknown>)[key], [
      ...loc,
      array ? Number(key) : key,
    ]);
    if (found) return found;
  }
  return null;
}

export const UNSAFE_NUMBER_MESSAGE =
  'Number out of the range JSON numbers carry exactly (at most ±9007199254740991)';
