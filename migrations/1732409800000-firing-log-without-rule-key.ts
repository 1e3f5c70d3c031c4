import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `rule_evaluations` no longer references `rules`; a trigger on `rules` removes a deleted rule's
 * rows instead, as the key's cascade did.
 *
 * The key's check locked each logged rule's row (FOR KEY SHARE) on every insert. Every event a
 * tenant's hot rule holds back writes a row for that rule, so under concurrent events one rule
 * row was shared by many transactions, and each insert rebuilt its multixact and logged the
 * lock. Scenario 4 ran at 1.12-1.15× with the key dropped, side by side with one process a
 * build; with fresh processes a round, this and the key checks of migration 1732409900000
 * together took it from 0.84× to 0.90× the build before the event log (BENCHMARKS.md).
 *
 * What the key also refused, a row for a rule deleted while its event ran, the firing log now
 * leaves out when it reads (RuleEvaluationsRepository), and retention removes it. A rule that
 * fires still meets a key, its cooldown's, so such an event still gets its 409.
 */
export class FiringLogWithoutRuleKey1732409800000 implements MigrationInterface {
  name = 'FiringLogWithoutRuleKey1732409800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rule_evaluations DROP CONSTRAINT rule_evaluations_tenant_id_rule_id_fkey;
      CREATE FUNCTION forget_rule_evaluations() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM rule_evaluations e USING gone g
         WHERE e.tenant_id = g.tenant_id AND e.rule_id = g.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER rules_forget_evaluations AFTER DELETE ON rules
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION forget_rule_evaluations();`);
  }

  /** Rows the key would refuse go first; the owner lifts FORCE for that statement only. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER rules_forget_evaluations ON rules;
      DROP FUNCTION forget_rule_evaluations();
      ALTER TABLE rules NO FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_evaluations NO FORCE ROW LEVEL SECURITY;
      DELETE FROM rule_evaluations e
       WHERE NOT EXISTS (SELECT 1 FROM rules r WHERE r.tenant_id = e.tenant_id AND r.id = e.rule_id);
      ALTER TABLE rules FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_evaluations FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_evaluations ADD CONSTRAINT rule_evaluations_tenant_id_rule_id_fkey
        FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE;`);
  }
}
