import { toSnake } from '../common/wire';

/** What a secret's old and new value are shown as: that it changed, never what it is. */
export const REDACTED = '[redacted]';

/** `{field: [old, new]}`, keyed by the field's wire name, as clients read the rest of the API. */
export type Changes = Record<string, [unknown, unknown]>;

/** JSON-safe and comparable: dates as ISO strings, absent as null. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return value;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields of `fields` whose value differs between `before` and `after` (null for a row that
 * did not exist yet, or no longer does). Only the named fields are read, so a column added to a
 * row later (a hash, a sealed secret) never reaches the log unless someone names it here.
 * `withheld` fields (secrets, and personal data that erasure must be able to remove from
 * everywhere) are recorded as changed, `[REDACTED, REDACTED]`, never with their values.
 */
export function changesOf<T extends object>(
  before: T | null,
  after: T | null,
  fields: readonly (keyof T & string)[],
  withheld: readonly (keyof T & string)[] = [],
): Changes {
  const out: Changes = {};
  for (const field of fields) {
    const old = plain(before?.[field]);
    const now = plain(after?.[field]);
    if (same(old, now)) continue;
    out[toSnake(field)] = withheld.includes(field) ? [REDACTED, REDACTED] : [old, now];
  }
  return out;
}

/** A secret that changed, for writes whose only change is one (a rotation). */
export const secretChanged = (field: string): Changes => ({
  [toSnake(field)]: [REDACTED, REDACTED],
});
