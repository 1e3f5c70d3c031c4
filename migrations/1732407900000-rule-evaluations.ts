import { MigrationInterface, QueryRunner } from 'typeorm';

// Copied from the earlier migrations rather than shared with them: a landed migration must
// never change, so it depends on nothing a later change could edit.
const TENANT = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;

function isolate(table: string): string {
  return `
    ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = ${TENANT}) WITH CHECK (tenant_id = ${TENANT});
    GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO hydracore_app;`;
}

/** The rule columns whose change is a new revision: those the rules_bump_version trigger watches. */
const REVISED = `customer_id, instance_id, name, description, trigger_event, conditions, actions,
  priority, cooldown_seconds, is_active, rule_key`;

/**
 * The firing log: what the rules made of each event.
 *
 * An event's evaluation is one row of facts (rule_evaluated_events: its payload, scope and the
 * tenant's rule version) and one row per rule that did more than fail its conditions
 * (rule_evaluations: fired, held by a cooldown or an override, refused by the loop guard or the
 * effects limit). Rules skipped for their conditions get no row: an event can meet hundreds of
 * rules, and a row each costs several times the whole event (measured: 500 rows in one
 * statement took 27 ms against 4 ms for four). What a skipped rule was is kept instead as the
 * tenant's rule revisions (rule_revisions, written on rule writes only), and the first failing
 * condition is worked out again when it is read, from the same conditions and the same payload.
 *
 * A rule's log goes when the rule goes (ON DELETE CASCADE, and its revisions with it): the
 * firings are listed per rule, and its id and outcome mean nothing once its conditions and
 * actions are gone. Events are not referenced: the event log is another domain's, numbered and
 * purged on its own schedule, and a reference would make its sequencer wait on these
 * transactions. Retention removes the facts row, which takes its evaluations with it.
 */
export class RuleEvaluations1732407900000 implements MigrationInterface {
  name = 'RuleEvaluations1732407900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rule_evaluated_events (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        instance_id uuid,
        customer_id uuid,
        -- The tenant's rule version the rules were read at: which revisions were in force.
        rule_version bigint NOT NULL,
        payload jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (tenant_id, event_id)
      );
      CREATE INDEX rule_evaluated_events_age ON rule_evaluated_events (tenant_id, at);
      ${isolate('rule_evaluated_events')}

      CREATE TABLE rule_evaluations (
        tenant_id uuid NOT NULL,
        event_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        -- Time-ordered (UUID version 7): newest first is id order, and a page's last id is the
        -- next page's cursor.
        id uuid NOT NULL,
        customer_id uuid,
        outcome text NOT NULL CHECK (outcome IN
          ('fired', 'suppressed_cooldown', 'overridden', 'loop_guard', 'limit_exceeded')),
        decision text CHECK (decision IN ('allow', 'require_approval', 'block')),
        actions jsonb NOT NULL DEFAULT '[]',
        at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, event_id, rule_id),
        FOREIGN KEY (tenant_id, event_id)
          REFERENCES rule_evaluated_events (tenant_id, event_id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE
      );
      -- A rule's firings newest first; a customer admin's page of a tenant default's firings
      -- (its own customer's only) without walking every other customer's.
      CREATE INDEX rule_evaluations_by_rule ON rule_evaluations (tenant_id, rule_id, id DESC);
      CREATE INDEX rule_evaluations_by_rule_customer
        ON rule_evaluations (tenant_id, rule_id, customer_id, id DESC);
      ${isolate('rule_evaluations')}

      -- Each rule's conditions and scope while it was active, by rule version: [from, to).
      CREATE TABLE rule_revisions (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        rule_id uuid NOT NULL,
        from_version bigint NOT NULL,
        to_version bigint,
        closed_at timestamptz,
        trigger_event text NOT NULL,
        customer_id uuid,
        instance_id uuid,
        priority integer NOT NULL,
        created_at timestamptz NOT NULL,
        conditions jsonb NOT NULL,
        PRIMARY KEY (tenant_id, rule_id, from_version)
      );
      CREATE INDEX rule_revisions_by_trigger ON rule_revisions (tenant_id, trigger_event, from_version);
      CREATE INDEX rule_revisions_closed ON rule_revisions (tenant_id, closed_at)
        WHERE closed_at IS NOT NULL;
      ${isolate('rule_revisions')}

      -- Runs after rules_bump_version (triggers run in name order), so it reads the new version.
      CREATE FUNCTION revise_rule() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE v bigint;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          DELETE FROM rule_revisions WHERE tenant_id = OLD.tenant_id AND rule_id = OLD.id;
          RETURN NULL;
        END IF;
        SELECT version INTO v FROM rule_versions WHERE tenant_id = NEW.tenant_id;
        IF TG_OP = 'UPDATE' THEN
          UPDATE rule_revisions SET to_version = v, closed_at = clock_timestamp()
           WHERE tenant_id = OLD.tenant_id AND rule_id = OLD.id AND to_version IS NULL;
        END IF;
        IF NEW.is_active THEN
          INSERT INTO rule_revisions (tenant_id, rule_id, from_version, trigger_event, customer_id,
                                      instance_id, priority, created_at, conditions)
          VALUES (NEW.tenant_id, NEW.id, v, NEW.trigger_event, NEW.customer_id, NEW.instance_id,
                  NEW.priority, NEW.created_at, NEW.conditions);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER rules_revise AFTER INSERT OR DELETE OR UPDATE OF ${REVISED}
        ON rules FOR EACH ROW EXECUTE FUNCTION revise_rule();`);
    // The rules already active are in force from their tenant's current version. The backfill
    // reads every tenant's rows: the owner lifts FORCE for this statement only.
    await q.query(`
      ALTER TABLE rules NO FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_versions NO FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_revisions NO FORCE ROW LEVEL SECURITY;
      INSERT INTO rule_revisions (tenant_id, rule_id, from_version, trigger_event, customer_id,
                                  instance_id, priority, created_at, conditions)
      SELECT r.tenant_id, r.id, COALESCE(v.version, 0), r.trigger_event, r.customer_id,
             r.instance_id, r.priority, r.created_at, r.conditions
        FROM rules r LEFT JOIN rule_versions v ON v.tenant_id = r.tenant_id
       WHERE r.is_active;
      ALTER TABLE rules FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_versions FORCE ROW LEVEL SECURITY;
      ALTER TABLE rule_revisions FORCE ROW LEVEL SECURITY;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER rules_revise ON rules;
      DROP FUNCTION revise_rule();
      DROP TABLE rule_revisions;
      DROP TABLE rule_evaluations;
      DROP TABLE rule_evaluated_events;`);
  }
}
