/**
 * The tenant's rules version as an SQL expression (0 for a tenant that never wrote a rule, and
 * so has no row). The rule engine reads it before an event's rules; the events route reads it in
 * the statement that also checks the event's customer, and hands it to the engine
 * (`FireOptions.version`), one round trip fewer an event.
 */
export const rulesVersionSql = (tenant: string): string =>
  `COALESCE((SELECT version FROM rule_versions WHERE tenant_id = ${tenant}), 0)`;
