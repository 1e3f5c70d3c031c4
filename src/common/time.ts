import { applyDecorators } from '@nestjs/common';
import { ValidateBy } from 'class-validator';
import { WireField } from './wire';

/**
 * RFC 3339 §5.6 `date-time`, and nothing else ISO 8601 allows (week dates, basic format,
 * reduced precision), since those reach `new Date()` as NaN.
 *
 * - Lower-case `t` and `z` are accepted: RFC 3339 allows them, and `Date` reads them.
 * - A space instead of `T` is refused: the RFC mentions it for readability, its grammar does not.
 * - Leap seconds (`:60`) are refused: `Date` cannot represent one.
 * - The fraction is capped at 9 digits (nanoseconds); the RFC sets no cap, the database keeps
 *   microseconds.
 * - `-00:00` (offset unknown) is accepted and means the same instant as `Z`.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * An RFC 3339 date-time naming a real calendar day (`2030-02-30` is refused, not rolled over)
 * whose instant, in UTC, falls in the years 0001 to 9999: times are answered in UTC, and
 * `9999-12-31T23:59:59-23:59` would come back as `+010000-…`, which is no RFC 3339 and which
 * the API would then refuse from its own client.
 */
export function isRfc3339(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  const utcYear = new Date(value).getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999;
}

export interface TimeFieldOptions {
  description?: string;
  /** Required fields say so; time fields are optional and nullable unless told otherwise. */
  optional?: boolean;
  nullable?: boolean;
}

/**
 * The house time field: documented as `format: date-time`, accepted only as RFC 3339. The
 * constraint keeps class-validator's `isIso8601` name so the wire pipe reports the
 * `datetime_parsing` type the clients already know.
 */
export function Rfc3339(options: TimeFieldOptions = {}): PropertyDecorator {
  const { description, optional = true, nullable = optional } = options;
  return applyDecorators(
    WireField({ optional, nullable, format: 'date-time', description }),
    ValidateBy({
      name: 'isIso8601',
      validator: {
        validate: (value) => isRfc3339(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an RFC 3339 date-time between the years 0001 and 9999 in UTC, such as 2030-01-01T00:00:00Z`,
      },
    }),
  );
}
