/**
 * What "the tenant has this customer" means, as an SQL expression over two placeholders: the
 * directory's own check uses it, and the events route reads it in the statement that opens an
 * event, beside the rules version, so that an event pays one round trip for both.
 */
export const customerExistsSql = (tenant: string, id: string): string =>
  `EXISTS (SELECT 1 FROM customers WHERE tenant_id = ${tenant} AND id = ${id})`;
