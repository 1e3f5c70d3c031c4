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
export function jsonBytes(value: unknown, limit = Infinity): number {
  let bytes = 0;
  // Answers false once past `limit`: a body of half a million values over its cap is not walked
  // to the end to learn by how much.
  const add = (item: unknown): boolean => {
    switch (typeof item) {
      case 'boolean':
        bytes += item ? 4 : 5;
        break;
      case 'number':
        bytes += numberBytes(item);
        break;
      case 'string':
        bytes += Buffer.byteLength(JSON.stringify(item));
        break;
      case 'object':
        if (item === null) bytes += 4;
        else if (Array.isArray(item)) {
          bytes += 2 + 2 * Math.max(0, item.length - 1);
          for (let i = 0; i < item.length; i++) if (!add(item[i])) return false;
        } else {
          let members = 0;
          for (const key in item) {
            const member = (item as Record<string, unknown>)[key];
            if (!Object.hasOwn(item, key) || member === undefined) continue;
            members++;
            bytes += Buffer.byteLength(JSON.stringify(key)) + 2;
            if (!add(member)) return false;
          }
          bytes += 2 + 2 * Math.max(0, members - 1);
        }
        break;
      default:
        bytes += 4; // undefined and the like are written as null
    }
    return bytes <= limit;
  };
  add(value);
  return bytes;
}

/** A number as numeric's text: the shortest JavaScript form, its exponent written out. */
function numberBytes(value: number): number {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value).length;
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
      validate: (value: unknown) => value === undefined || jsonBytes(value, max) <= max,
      defaultMessage: () => jsonTooLargeMessage(max),
    },
  });
}

/** The same check for a value computed from the request (a merged state): 422 at `loc`. */
export function assertJsonBytes(value: unknown, max: number, loc: (string | number)[]): void {
  if (jsonBytes(value, max) > max) {
    throw RequestValidationError.at(loc, jsonTooLargeMessage(max), 'json_too_large');
  }
}
