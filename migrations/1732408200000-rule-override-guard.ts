import { MigrationInterface, QueryRunner } from 'typeorm';

/** The columns whose change bumps a tenant's rule version, before this migration. */
const VERSIONED = `customer_id, instance_id, name, description, trigger_event, conditions, actions,
  priority, cooldown_seconds, is_active, rule_key`;

/**
 * A tenant default may refuse to be overridden by its customers' rules of the same rule_key
 * (`allow_customer_override = false`): a guard such as "payments over 100 need approval" that
 * a customer admin must not switch off. Only a tenant default can refuse; a customer rule is
 * always true, which the CHECK keeps whatever writes the row.
 *
 * The partial index serves the check made when a customer rule takes a key: it holds only the
 * guards, so it stays small. The flag changes what fires, so writing it bumps the tenant's rule
 * version like the other columns the rule cache compiles.
 */
export class RuleOverrideGuard1732408200000 implements MigrationInterface {
  name = 'RuleOverrideGuard1732408200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rules
        ADD COLUMN allow_customer_override boolean NOT NULL DEFAULT true,
        ADD CONSTRAINT rules_override_guard_on_defaults
          CHECK (customer_id IS NULL OR allow_customer_override);
      CREATE INDEX rules_override_guards ON rules (tenant_id, rule_key)
        WHERE customer_id IS NULL AND NOT allow_customer_override;
      DROP TRIGGER rules_bump_version ON rules;
      CREATE TRIGGER rules_bump_version
        AFTER INSERT OR DELETE OR UPDATE OF ${VERSIONED}, allow_customer_override
        ON rules FOR EACH ROW EXECUTE FUNCTION bump_rule_version();`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER rules_bump_version ON rules;
      CREATE TRIGGER rules_bump_version
        AFTER INSERT OR DELETE OR UPDATE OF ${VERSIONED}
        ON rules FOR EACH ROW EXECUTE FUNCTION bump_rule_version();
      DROP INDEX rules_override_guards;
      ALTER TABLE rules DROP COLUMN allow_customer_override;`);
  }
}
