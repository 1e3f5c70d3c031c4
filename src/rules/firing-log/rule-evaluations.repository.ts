import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { prepared } from '../../database/prepared';
import { TenantDb } from '../../database/tenant-db';
import { Meters } from '../../observability/meters/meters';
import { Condition } from '../conditions';
import { ActionTaken, Decision, EvaluationRecord, RecordedOutcome } from './evaluation';
import { timeOrderedIds } from './time-ordered-id';

/**
 * An event's facts and its rules' rows in one statement, whatever the number of rules: the
 * events route runs it on every event that meets a rule. The facts row goes in even with no
 * rule row, for the rules the event skipped.
 */
const RECORD = prepared(
  `WITH facts AS (
     INSERT INTO rule_evaluated_events
       (tenant_id, event_id, event_type, instance_id, customer_id, rule_version, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb))
   INSERT INTO rule_evaluations
     (tenant_id, event_id, rule_id, id, customer_id, outcome, decision, actions, at)
   SELECT $1, $2, r.rule_id, r.id, $5, r.outcome, r.decision, r.actions::jsonb, $8
     FROM unnest($9::uuid[], $10::uuid[], $11::text[], $12::text[], $13::text[])
       AS r(rule_id, id, outcome, decision, actions)`,
);

const RESULTS = prepared(
  `UPDATE rule_evaluations e SET actions = r.actions::jsonb
     FROM unnest($3::uuid[], $4::text[]) AS r(rule_id, actions)
    WHERE e.tenant_id = $1 AND e.event_id = $2 AND e.rule_id = r.rule_id`,
);

/** The facts an event's rules were evaluated on. */
export interface EvaluatedEvent {
  eventId: string;
  eventType: string;
  instanceId: string | null;
  customerId: string | null;
  payload: Record<string, unknown>;
}

/** A row of the log, with its event's type. */
export interface StoredEvaluation {
  id: string;
  eventId: string;
  eventType: string;
  ruleId: string;
  customerId: string | null;
  outcome: RecordedOutcome;
  decision: Decision | null;
  actions: ActionTaken[];
  at: Date;
}

/** An event's facts as stored, with the rule version they were evaluated at. */
export interface StoredFacts extends EvaluatedEvent {
  ruleVersion: number;
  at: Date;
}

/** A rule as it stood when an event was evaluated: what a skipped rule is explained by. */
export interface RuleRevision {
  ruleId: string;
  conditions: Condition[];
}

interface Row {
  id: string;
  event_id: string;
  event_type: string;
  rule_id: string;
  customer_id: string | null;
  outcome: RecordedOutcome;
  decision: Decision | null;
  actions: ActionTaken[];
  at: Date;
}

const stored = (r: Row): StoredEvaluation => ({
  id: r.id,
  eventId: r.event_id,
  eventType: r.event_type,
  ruleId: r.rule_id,
  customerId: r.customer_id,
  outcome: r.outcome,
  decision: r.decision,
  actions: r.actions,
  at: r.at,
});

/** The firing log's tables: rule_evaluated_events, rule_evaluations, rule_revisions. */
@Injectable()
export class RuleEvaluationsRepository {
  constructor(
    private readonly db: TenantDb,
    private readonly meters: Meters,
  ) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  async record(
    tenantId: string,
    event: EvaluatedEvent,
    ruleVersion: number,
    records: readonly EvaluationRecord[],
  ): Promise<void> {
    const { ids, at } = timeOrderedIds(records.length);
    await this.m.query(RECORD, [
      tenantId,
      event.eventId,
      event.eventType,
      event.instanceId,
      event.customerId,
      ruleVersion,
      JSON.stringify(event.payload),
      at,
      records.map((r) => r.ruleId),
      ids,
      records.map((r) => r.outcome),
      records.map((r) => r.decision),
      records.map((r) => JSON.stringify(r.actions)),
    ]);
    const outcomes = records.map((r) => r.outcome);
    if (outcomes.length > 0) this.db.afterCommit(() => this.meters.ruleOutcomes(outcomes));
  }

  /** Replaces the actions of the given rules' rows of an event (ids known once they ran). */
  async recordActions(
    tenantId: string,
    eventId: string,
    rules: readonly { ruleId: string; actions: ActionTaken[] }[],
  ): Promise<void> {
    if (rules.length === 0) return;
    await this.m.query(RESULTS, [
      tenantId,
      eventId,
      rules.map((r) => r.ruleId),
      rules.map((r) => JSON.stringify(r.actions)),
    ]);
  }

  /**
   * A rule's rows newest first, strictly older than `before`: ids are time-ordered, so the id of
   * a page's last row is where the next starts, even once retention has removed that row.
   * `customerId` keeps only the rows of events of that customer.
   */
  async firings(
    tenantId: string,
    ruleId: string,
    page: { before?: string; limit: number; customerId?: string },
  ): Promise<StoredEvaluation[]> {
    const params: unknown[] = [tenantId, ruleId, page.limit];
    let where = 'e.tenant_id = $1 AND e.rule_id = $2';
    if (page.customerId) where += ` AND e.customer_id = $${params.push(page.customerId)}`;
    if (page.before) where += ` AND e.id < $${params.push(page.before)}`;
    const rows = await this.m.query<Row[]>(
      `SELECT e.id, e.event_id, v.event_type, e.rule_id, e.customer_id, e.outcome, e.decision,
              e.actions, e.at
         FROM rule_evaluations e
         JOIN rule_evaluated_events v ON v.tenant_id = e.tenant_id AND v.event_id = e.event_id
        WHERE ${where}
        ORDER BY e.id DESC
        LIMIT $3`,
      params,
    );
    return rows.map(stored);
  }

  async facts(tenantId: string, eventId: string): Promise<StoredFacts | null> {
    const [row] = await this.m.query<Record<string, unknown>[]>(
      `SELECT event_type, instance_id, customer_id, rule_version, payload, at
         FROM rule_evaluated_events WHERE tenant_id = $1 AND event_id = $2`,
      [tenantId, eventId],
    );
    if (!row) return null;
    return {
      eventId,
      eventType: row.event_type as string,
      instanceId: row.instance_id as string | null,
      customerId: row.customer_id as string | null,
      payload: row.payload as Record<string, unknown>,
      ruleVersion: Number(row.rule_version),
      at: row.at as Date,
    };
  }

  /**
   * The event's rows of rules that still stand. A rule's deletion removes its rows, but not
   * one an event still running then logged after (nothing refuses it): that row is left out.
   */
  async ofEvent(tenantId: string, facts: StoredFacts): Promise<StoredEvaluation[]> {
    const rows = await this.m.query<Row[]>(
      `SELECT e.id, e.event_id, e.rule_id, e.customer_id, e.outcome, e.decision, e.actions, e.at
         FROM rule_evaluations e
        WHERE e.tenant_id = $1 AND e.event_id = $2
          AND EXISTS (SELECT 1 FROM rules r WHERE r.tenant_id = $1 AND r.id = e.rule_id)`,
      [tenantId, facts.eventId],
    );
    return rows.map((row) => stored({ ...row, event_type: facts.eventType }));
  }

  /**
   * The active rules of the event's trigger and scope at the version it was evaluated at, in
   * the order the engine takes them (priority, then age).
   */
  revisions(tenantId: string, facts: StoredFacts): Promise<RuleRevision[]> {
    return this.m.query<RuleRevision[]>(
      `SELECT rule_id AS "ruleId", conditions
         FROM rule_revisions
        WHERE tenant_id = $1 AND trigger_event = $2
          AND from_version <= $3 AND (to_version IS NULL OR to_version > $3)
          AND (customer_id IS NULL OR customer_id = $4)
          AND (instance_id IS NULL OR instance_id = $5)
        ORDER BY priority DESC, created_at, rule_id`,
      [tenantId, facts.eventType, facts.ruleVersion, facts.customerId, facts.instanceId],
    );
  }

  /**
   * Removes, oldest first, at most `limit` events' evaluations older than `days` (their facts
   * and their rules' rows together), and the rule revisions closed a day before that: an
   * evaluation can read a revision a rule write was closing while it ran, never one closed a day
   * earlier.
   */
  async purge(tenantId: string, days: number, limit: number): Promise<number> {
    const [{ removed }] = await this.m.query<{ removed: number }[]>(
      `WITH facts AS (
         DELETE FROM rule_evaluated_events
          WHERE tenant_id = $1 AND event_id IN (
            SELECT event_id FROM rule_evaluated_events
             WHERE tenant_id = $1 AND at < now() - make_interval(days => $2)
             ORDER BY at LIMIT $3)
         RETURNING event_id),
       rules AS (
         DELETE FROM rule_evaluations e USING facts
          WHERE e.tenant_id = $1 AND e.event_id = facts.event_id)
       SELECT count(*)::int AS removed FROM facts`,
      [tenantId, days, limit],
    );
    await this.m.query(
      `DELETE FROM rule_revisions
        WHERE tenant_id = $1 AND closed_at < now() - make_interval(days => $2 + 1)`,
      [tenantId, days],
    );
    return removed;
  }
}
