import { WireField } from './wire';

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
