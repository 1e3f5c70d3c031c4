import { invalidField } from '../common/errors';
import { isForeignKeyViolation } from '../database/rows';

/**
 * A write that names a customer the tenant does not have, refused by the written table's key
 * to `customers (tenant_id, id)` rather than by a read beforehand: one round trip fewer on the
 * routes that create workflows and approvals. The key holds the tenant too, so another
 * tenant's customer is refused as an unknown one is, whatever row-level security lets a
 * statement see (a key check reads past it).
 *
 * Rethrows `error` as 422 "Customer not found" at `customer_id` when it is that key's
 * violation, and as itself otherwise.
 */
export function refuseUnknownCustomer(table: string): (error: unknown) => never {
  const constraint = `${table}_tenant_id_customer_id_fkey`;
  return (error: unknown) => {
    if (isForeignKeyViolation(error, constraint))
      throw invalidField('customerId', 'Customer not found');
    throw error;
  };
}
