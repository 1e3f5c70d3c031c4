import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RawJson } from '../common/raw-json';
import { prepared } from '../database/prepared';
import { TenantDb } from '../database/tenant-db';
import { customerExistsSql } from '../directory/customer-sql';
import { insertEventsSql } from '../event-log/event-log-sql';
import { rulesVersionSql } from '../rules/engine/rules-version-sql';

/**
 * What every event needs before anything else, and its recording, in one round trip: whether
 * its customer is the tenant's (the event is recorded only if so), and the rules version its
 * rules are read at. Each part's meaning stays with its domain (directory, rules, event log);
 * this statement only carries them.
 */
const OPEN_EVENT = prepared(
  `WITH context AS (
     SELECT ${customerExistsSql('$1', '$2')} AS customer_found,
            ${rulesVersionSql('$1')} AS rules_version),
   recorded AS (${insertEventsSql('$1', '$3', '(SELECT customer_found FROM context)')})
   SELECT rules_version, (SELECT id FROM recorded) AS event_id FROM context`,
);

/** The event's id is null when its customer was not found, and nothing was recorded. */
export interface OpenedEvent {
  rulesVersion: number;
  eventId: string | null;
}

/**
 * An event's opening statement, and its receipts: the first answer to each idempotency key of an
 * instance.
 */
@Injectable()
export class EventsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** `event` is EventLogService.recording's parameter for the one event. */
  async open(tenantId: string, customerId: string, event: string): Promise<OpenedEvent> {
    const [row] = await this.m.query<{ rules_version: string; event_id: string | null }[]>(
      OPEN_EVENT,
      [tenantId, customerId, event],
    );
    return { rulesVersion: Number(row.rules_version), eventId: row.event_id };
  }

  /**
   * Claims an idempotency key of this instance. Returns null when this request claimed it;
   * otherwise the first request's hash and answer (a concurrent first request is waited for by
   * the unique key). Another instance's use of the same key is another key: an answer names
   * workflows and approvals of the instance that asked, and is never shown to another.
   */
  async claimReceipt(
    tenantId: string,
    instanceId: string,
    key: string,
    requestHash: string,
  ): Promise<{ requestHash: string; response: RawJson } | null> {
    const inserted = await this.m.query<unknown[]>(
      `INSERT INTO event_receipts (tenant_id, instance_id, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
      [tenantId, instanceId, key, requestHash],
    );
    if (inserted.length > 0) return null;
    const rows = await this.m.query<{ request_hash: string; response: string }[]>(
      `SELECT request_hash, coalesce(answer::text, response::text) AS response FROM event_receipts
        WHERE tenant_id = $1 AND instance_id = $2 AND idempotency_key = $3`,
      [tenantId, instanceId, key],
    );
    return { requestHash: rows[0].request_hash, response: new RawJson(rows[0].response) };
  }

  /** `answer` is what replays send; `response` (jsonb) is for replicas of the build before. */
  async storeReceipt(
    tenantId: string,
    instanceId: string,
    key: string,
    responseText: string,
  ): Promise<void> {
    await this.m.query(
      `UPDATE event_receipts SET answer = $4::json, response = $4::jsonb
        WHERE tenant_id = $1 AND instance_id = $2 AND idempotency_key = $3`,
      [tenantId, instanceId, key, responseText],
    );
  }
}
