import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { issueKey } from '../src/auth/keys';

export interface SeededTenant {
  tenantId: string;
  instanceId: string;
  customerIds: string[];
  proxyKey: string;
  workflowId: string;
}

const TYPES = [
  'lead',
  'rent_arrears',
  'maintenance',
  'compliance_renewal',
  'viewing',
  'roster',
  'approval',
  'invoice_chase',
  'onboarding',
  'custom',
];

/**
 * One tenant as the API would leave it: customers with persons and bindings, an instance with a
 * proxy key, `workflows` workflows with state and a three-entry history, and pending approvals.
 * Written as the owner inside the tenant's RLS context, set-based so 100,000 rows take seconds.
 */
export async function seedTenant(
  db: Client,
  name: string,
  workflows: number,
): Promise<SeededTenant> {
  const tenantId = randomUUID();
  const instanceId = randomUUID();
  const customerIds = Array.from({ length: 10 }, () => randomUUID());
  const proxy = issueKey('proxy', tenantId);
  await db.query('BEGIN');
  try {
    await db.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [tenantId, name]);
    await db.query(
      `INSERT INTO customers (tenant_id, id, name) SELECT $1, c, 'Customer ' || n FROM unnest($2::uuid[]) WITH ORDINALITY AS t(c, n)`,
      [tenantId, customerIds],
    );
    await db.query(
      `INSERT INTO persons (tenant_id, customer_id, name, phone)
       SELECT $1, c, 'Person ' || n || '-' || p, '+4477009' || lpad((n * 10 + p)::text, 5, '0')
         FROM unnest($2::uuid[]) WITH ORDINALITY AS t(c, n), generate_series(1, 3) p`,
      [tenantId, customerIds],
    );
    await db.query(`INSERT INTO instances (tenant_id, id, name) VALUES ($1, $2, 'Front desk')`, [
      tenantId,
      instanceId,
    ]);
    await db.query(
      `INSERT INTO proxy_keys (tenant_id, instance_id, key_hash, key_hint) VALUES ($1, $2, $3, $4)`,
      [tenantId, instanceId, proxy.hash, proxy.hint],
    );
    await db.query(
      `INSERT INTO worker_bindings (tenant_id, customer_id, person_id, instance_id, channel_type, channel_address, status, verified_at)
       SELECT tenant_id, customer_id, id, $2, 'whatsapp', phone, 'verified', now() FROM persons WHERE tenant_id = $1`,
      [tenantId, instanceId],
    );
    await db.query(
      `INSERT INTO workflows (tenant_id, instance_id, customer_id, workflow_type, status, stage, title, reference,
          workflow_state, history, created_at, last_action_at)
       SELECT $1, $2, ($3::uuid[])[1 + g % 10], ($4::text[])[1 + g % 10], (ARRAY['active', 'paused', 'completed'])[1 + g % 3],
              'stage_' || (g % 5), 'Case ' || g, 'REF-' || g,
              jsonb_build_object('unit', g, 'arrears', g * 10, 'notes', jsonb_build_array('called', 'emailed')),
              jsonb_build_array(
                jsonb_build_object('at', '2026-01-01T00:00:00.000Z', 'action', 'created', 'action_detail', NULL, 'actor', 'instance:bench',
                  'from_status', NULL, 'to_status', 'active', 'from_stage', NULL, 'to_stage', 'stage_0'),
                jsonb_build_object('at', '2026-01-02T00:00:00.000Z', 'action', 'contacted', 'action_detail', jsonb_build_object('channel', 'sms'),
                  'actor', 'instance:bench', 'from_status', 'active', 'to_status', 'active', 'from_stage', 'stage_0', 'to_stage', 'stage_1'),
                jsonb_build_object('at', '2026-01-03T00:00:00.000Z', 'action', 'escalated', 'action_detail', NULL, 'actor', 'instance:bench',
                  'from_status', 'active', 'to_status', 'active', 'from_stage', 'stage_1', 'to_stage', 'stage_' || (g % 5))),
              now() - make_interval(secs => g), now()
         FROM generate_series(1, $5) g`,
      [tenantId, instanceId, customerIds, TYPES, workflows],
    );
    // A bulk load appends one counter row per workflow; recount them as the compactor would.
    await db.query(`DELETE FROM workflow_counts WHERE tenant_id = $1`, [tenantId]);
    await db.query(
      `INSERT INTO workflow_counts
       SELECT tenant_id, instance_id, customer_id, workflow_type, status, count(*) FROM workflows
        WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4, 5`,
      [tenantId],
    );
    await db.query(
      `INSERT INTO approvals (tenant_id, approval_ref, customer_id, instance_id, skill_slug, action, serialized_intent, intent_hash,
          approver_role, request_hash, expires_at)
       SELECT $1::uuid, 'APR-' || translate(upper(substr(md5($1::text || g), 1, 10)), '01', 'XY'), ($2::uuid[])[1 + g % 10], $3, 'payments', 'pay_contractor',
              jsonb_build_object('amount', g), md5(g::text), 'customer', md5(g::text), now() + interval '1 day'
         FROM generate_series(1, 200) g`,
      [tenantId, customerIds, instanceId],
    );
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM workflows WHERE tenant_id = $1 LIMIT 1`,
      [tenantId],
    );
    await db.query('COMMIT');
    return {
      tenantId,
      instanceId,
      customerIds,
      proxyKey: proxy.key,
      workflowId: rows[0]?.id ?? '',
    };
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}

/** 500 active rules on skill.invoked, of which 3 match the benchmark's event (and cool down). */
export async function seedRules(db: Client, tenantId: string): Promise<void> {
  await db.query('BEGIN');
  await db.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
  await db.query(
    `INSERT INTO rules (tenant_id, name, trigger_event, conditions, actions, priority, cooldown_seconds)
     SELECT $1, 'Rule ' || g, 'skill.invoked',
            CASE g % 4
              WHEN 0 THEN jsonb_build_array(jsonb_build_object('field', 'amount', 'operator', 'gt', 'value', 1000000 + g))
              WHEN 1 THEN jsonb_build_array(jsonb_build_object('field', 'currency', 'operator', 'eq', 'value', 'EUR'),
                                            jsonb_build_object('field', 'amount', 'operator', 'gte', 'value', g))
              WHEN 2 THEN jsonb_build_array(jsonb_build_object('field', 'skill_slug', 'operator', 'in', 'value', jsonb_build_array('messaging', 'tenancy')))
              ELSE jsonb_build_array(jsonb_build_object('field', 'requested_by', 'operator', 'starts_with', 'value', 'landlord-' || g))
            END,
            jsonb_build_array(jsonb_build_object('type', 'block', 'reason', 'rule ' || g)), g % 50, 300
       FROM generate_series(1, 497) g`,
    [tenantId],
  );
  await db.query(
    `INSERT INTO rules (tenant_id, name, trigger_event, conditions, actions, priority, cooldown_seconds)
     SELECT $1, 'Matching ' || g, 'skill.invoked',
            jsonb_build_array(jsonb_build_object('field', 'skill_slug', 'operator', 'eq', 'value', 'payments')),
            jsonb_build_array(jsonb_build_object('type', 'notify', 'to', 'ops', 'message', 'payment seen')), 10, 300
       FROM generate_series(1, 3) g`,
    [tenantId],
  );
  await db.query('COMMIT');
}

/** The event scenario 4 reports: evaluated against every one of the 500 rules. */
export const BENCH_EVENT_PAYLOAD = {
  skill_slug: 'payments',
  action: 'pay_contractor',
  amount: 120,
  currency: 'GBP',
  requested_by: 'agent',
};
