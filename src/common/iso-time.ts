/** Milliseconds of 0001-01-01T00:00:00.000Z and of 9999-12-31T23:59:59.999Z. */
const FIRST = -62135596800000;
const LAST = 253402300799999;
const DAY = 86400000;

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `date.toISOString()`, written by arithmetic. V8's own formats through `snprintf`: 0.8 µs a
 * date against 0.19 µs here, and a page of twenty workflows carries sixty of them (measured in
 * process). The calendar date comes from the day number by the civil-from-days algorithm
 * (Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms"). Outside years 1 to 9999,
 * and for an invalid date, it is V8's own, which writes those years with a sign, or throws.
 */
export function isoTime(date: Date): string {
  const time = date.getTime();
  if (!(time >= FIRST && time <= LAST)) return date.toISOString();
  const days = Math.floor(time / DAY);
  let rest = time - days * DAY;
  // Days since 0000-03-01, in 400-year eras of 146,097 days; March first, so leap days end a year.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March … 11 = February
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3600000);
  rest -= hours * 3600000;
  const minutes = Math.floor(rest / 60000);
  rest -= minutes * 60000;
  const seconds = Math.floor(rest / 1000);
  const yyyy = year < 1000 ? `000${year}`.slice(-4) : `${year}`;
  return `${yyyy}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${three(rest - seconds * 1000)}Z`;
}
