import { ValidateBy } from 'class-validator';
import { RequestValidationError } from './errors';

export const KiB = 1024;

/**
 * Caps on stored free-form JSON, in canonical (JSON.stringify) UTF-8 bytes. They bound what one
 * row can make the API read, parse and send: a page of 100 workflows, a rule set, an event.
 */
export const JSON_CAPS = {
  workflowState: 256 * KiB,
  /** suspended_payload, resume_data and a history entry's action_detail. */
  workflowDetail: 64 * KiB,
  serializedIntent: 64 * KiB,
  eventPayload: 64 * KiB,
} as const;

/** Size of a value as the API stores and sends it. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
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
