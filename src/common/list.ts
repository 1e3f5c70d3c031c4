import { applyDecorators } from '@nestjs/common';
import { IsInt, IsUUID, Max, Min } from 'class-validator';
import { WireField, WireFieldOptions } from './wire';

export interface ListEnvelope<T> {
  count: number;
  items(rows: T[]): object;
}

/**
 * `{"<plural>": […], "count": n}` (the envelope the existing clients read), as a named class so the OpenAPI schema shows
 * the item type. Usage: `const CustomerList = listEnvelope(Customer, 'customers')`.
 */
export function listEnvelope<T extends object>(item: new () => T, plural: string) {
  class Envelope {
    count!: number;
    static of(rows: T[]): Envelope {
      return Object.assign(new Envelope(), { [plural]: rows, count: rows.length });
    }
  }
  WireField({ type: [item] })(Envelope.prototype, plural);
  WireField({ type: 'integer', minimum: 0 })(Envelope.prototype, 'count');
  Object.defineProperty(Envelope, 'name', { value: `${item.name}List` });
  return Envelope;
}

/*
 * The query parameters of keyset-paged lists, declared once so every list reads, documents and
 * bounds them alike. Listed in the order property decorators written above a field would run
 * (bottom up), so a field's checks are registered as they always were.
 */

/** How many items a page holds at most, with the one default the service applies too. */
export const PageLimit = (page: { defaultLimit: number; maxLimit: number }) =>
  applyDecorators(
    Max(page.maxLimit),
    Min(1),
    IsInt(),
    WireField({
      optional: true,
      query: 'int',
      type: 'integer',
      minimum: 1,
      maximum: page.maxLimit,
      default: page.defaultLimit,
    }),
  );

/** The keyset cursor: the id of the previous page's last item. */
export const AfterId = (options: Pick<WireFieldOptions, 'description' | 'normalize'>) =>
  applyDecorators(IsUUID(), WireField({ optional: true, format: 'uuid', ...options }));

/**
 * The newest this many of a list that revoked rows grow without end (keys are rotated and
 * revoked, bindings rebound): every list is bounded, and history past it is the audit log's.
 */
export const LIST_MOST = 1000;

/**
 * What a row a list reads without sending it is charged to its tenant's pace, in document
 * bytes: the database's time for one, in the time it takes to turn that many bytes of jsonb
 * into text (about 5.5 ns a byte). Measured at 133,000 workflows of one tenant: the walk to
 * the last page (OFFSET, through the rows themselves) added 50-65 ms to the request, 0.4 µs
 * a row; a count of them all (from an index) took 17 ms, 0.13 µs a row.
 */
export const WALKED_ROW_BYTES = 64;
export const COUNTED_ROW_BYTES = 24;
/**
 * A page past this many rows (about 4 ms of the database's time to reach) waits for the
 * tenant's other such pages: see TenantAdmission.walk.
 */
export const DEEP_WALK_ROWS = 10_000;

/** Said of the parameters that make a list read rows it does not send. */
export const WALK_CHARGED = `Rows read to reach the page are charged to the tenant's document pace at ${WALKED_ROW_BYTES} bytes each, and rows counted for a total the counters do not keep at ${COUNTED_ROW_BYTES}. A page past ${DEEP_WALK_ROWS.toLocaleString('en')} rows waits for the tenant's other such pages.`;
