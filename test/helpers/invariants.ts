import { QueryResult } from 'pg';

/** What the checker needs of `t.raw` (a superuser Pool): it reads every tenant's rows. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<QueryResult>;
}

/**
 * Facts the database cannot tell on its own (how many changes a workflow went through, how many
 * times a rule fired): the caller counts them from the responses it got. Ids left out of a map
 * are checked only for what the rows themselves prove.
 */
export interface Expected {
  /** workflow id → history entries (1 for `created` + one per successful change) */
  historyLengths?: Map<string, number>;
  /** rule id → firings (times it appears in `fired` of 200 event answers) */
  triggerCounts?: Map<string, number>;
  /** approval id → status it must have */
  approvalStatuses?: Map<string, string>;
}

type Row = Record<string, unknown>;
type Check = (raw: Queryable, expected: Expected) => Promise<string[]>;

const show = (row: Row) => JSON.stringify(row);
const rows = async (raw: Queryable, sql: string, params: unknown[] = []) =>
  (await raw.query(sql, params)).rows as Row[];

/** Every approved approval has exactly one replay in the outbox; no other approval has any. */
const approvalReplays: Check = async (raw, { approvalStatuses }) => {
  const out = (
    await rows(
      raw,
      `SELECT a.tenant_id, a.id, a.approval_ref, a.status, count(o.id)::int AS replays
         FROM approvals a
         LEFT JOIN outbox o
           ON o.tenant_id = a.tenant_id AND o.approval_id = a.id AND o.kind = 'approval.replay'
        GROUP BY a.tenant_id, a.id
       HAVING count(o.id) <> CASE WHEN a.status = 'approved' THEN 1 ELSE 0 END`,
    )
  ).map(
    (r) =>
      `approval ${show(r)}: ${r.status as string} needs ${r.status === 'approved' ? 1 : 0} replay`,
  );
  for (const r of await rows(
    raw,
    `SELECT tenant_id, id FROM outbox WHERE kind = 'approval.replay' AND approval_id IS NULL`,
  ))
    out.push(`outbox replay ${show(r)} belongs to no approval`);
  if (approvalStatuses?.size) {
    const stored = await rows(raw, `SELECT id, approval_ref, status FROM approvals`);
    const byId = new Map(stored.map((r) => [r.id as string, r]));
    for (const [id, status] of approvalStatuses) {
      const r = byId.get(id);
      if (r?.status !== status)
        out.push(`approval ${id}: expected ${status}, stored ${r ? show(r) : 'nothing'}`);
    }
  }
  return out;
};

/**
 * History is append-only and every change appends one entry: it starts with `created`, each
 * entry starts where the previous one ended, the last ends at the row's status and stage, and
 * (when the caller counted) it is exactly as long as the changes that succeeded.
 */
const workflowHistories: Check = async (raw, { historyLengths }) => {
  const out: string[] = [];
  const stored = await rows(raw, `SELECT tenant_id, id, status, stage, history FROM workflows`);
  for (const w of stored) {
    const history = w.history as Row[];
    const name = `workflow ${w.id as string} (tenant ${w.tenant_id as string})`;
    if (history[0]?.action !== 'created' || history[0].from_status !== null)
      out.push(`${name}: history does not start with created: ${show(history[0] ?? {})}`);
    for (let i = 1; i < history.length; i++) {
      const [prev, entry] = [history[i - 1], history[i]];
      if (entry.from_status !== prev.to_status || entry.from_stage !== prev.to_stage)
        out.push(`${name}: entry ${i} ${show(entry)} does not follow ${show(prev)}`);
    }
    const last = history[history.length - 1];
    if (last && (last.to_status !== w.status || last.to_stage !== w.stage))
      out.push(
        `${name}: is ${show({ status: w.status, stage: w.stage })}, history ends ${show(last)}`,
      );
  }
  const byId = new Map(stored.map((w) => [w.id as string, (w.history as Row[]).length]));
  for (const [id, n] of historyLengths ?? [])
    if (byId.get(id) !== n)
      out.push(`workflow ${id}: expected ${n} history entries, stored ${byId.get(id) ?? 'no row'}`);
  return out;
};

/** The partial unique index should make this impossible; the check proves it held. */
const liveBindings: Check = async (raw) =>
  (
    await rows(
      raw,
      `SELECT tenant_id, channel_type, channel_address, array_agg(id ORDER BY created_at) AS ids
         FROM worker_bindings WHERE status <> 'revoked'
        GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    )
  ).map((r) => `more than one live binding for ${show(r)}`);

/**
 * No table records firings, so the counts come from the caller. Each firing runs the rule's
 * actions once in the same transaction: its approvals (rule_id) and notify messages (payload
 * rule_id) must number trigger_count times the actions of that type.
 */
const ruleFirings: Check = async (raw, { triggerCounts }) => {
  if (!triggerCounts?.size) return [];
  const out: string[] = [];
  const stored = await rows(
    raw,
    `SELECT r.id, r.trigger_count, r.actions,
            (SELECT count(*)::int FROM approvals a
              WHERE a.tenant_id = r.tenant_id AND a.rule_id = r.id) AS approvals,
            (SELECT count(*)::int FROM outbox o
              WHERE o.tenant_id = r.tenant_id AND o.kind = 'notify'
                AND o.payload->>'rule_id' = r.id::text) AS notifies
       FROM rules r WHERE r.id = ANY($1::uuid[])`,
    [[...triggerCounts.keys()]],
  );
  const byId = new Map(stored.map((r) => [r.id as string, r]));
  for (const [id, fired] of triggerCounts) {
    const r = byId.get(id);
    if (!r) {
      out.push(`rule ${id}: no row`);
      continue;
    }
    const per = (type: string) => (r.actions as Row[]).filter((a) => a.type === type).length;
    if (r.trigger_count !== fired)
      out.push(`rule ${id}: trigger_count ${r.trigger_count as number}, fired ${fired} times`);
    if (r.approvals !== fired * per('require_approval'))
      out.push(`rule ${id}: ${r.approvals as number} approvals for ${fired} firings`);
    if (r.notifies !== fired * per('notify'))
      out.push(`rule ${id}: ${r.notifies as number} notify messages for ${fired} firings`);
  }
  return out;
};

/** List totals come from workflow_counts: its sums must equal the rows, key by key. */
export const workflowCounts: Check = async (raw) =>
  (
    await rows(
      raw,
      `SELECT tenant_id, instance_id, customer_id, workflow_type, status,
              coalesce(c.n, 0)::int AS counted, coalesce(w.n, 0)::int AS rows
         FROM (SELECT tenant_id, instance_id, customer_id, workflow_type, status, sum(n) AS n
                 FROM workflow_counts GROUP BY 1, 2, 3, 4, 5) c
         FULL JOIN (SELECT tenant_id, instance_id, customer_id, workflow_type, status, count(*) AS n
                      FROM workflows GROUP BY 1, 2, 3, 4, 5) w
        USING (tenant_id, instance_id, customer_id, workflow_type, status)
        WHERE coalesce(c.n, 0) <> coalesce(w.n, 0)`,
    )
  ).map((r) => `workflow_counts disagree with the rows: ${show(r)}`);

const CHECKS = [approvalReplays, workflowHistories, liveBindings, ruleFirings, workflowCounts];

/** Every broken invariant across the whole database, one line naming the rows each. */
export async function findViolations(raw: Queryable, expected: Expected = {}): Promise<string[]> {
  return (await Promise.all(CHECKS.map((check) => check(raw, expected)))).flat();
}

export async function assertInvariants(raw: Queryable, expected: Expected = {}): Promise<void> {
  const violations = await findViolations(raw, expected);
  if (violations.length > 0)
    throw new Error(`${violations.length} invariant(s) broken:\n${violations.join('\n')}`);
}
