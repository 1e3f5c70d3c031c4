import type { EntityManager } from 'typeorm';
import { rowBusy } from '../common/errors';
import { prepared } from './prepared';

/** How long an answer is kept, and a key cannot be used for another request. */
export const IDEMPOTENCY_TTL_HOURS = 24;
/** Expired keys of an instance removed by each claim of one of its keys: more than it adds. */
const PURGE_PER_CLAIM = 10;

/** A key of one instance of the current tenant. */
export interface KeyRef {
  tenantId: string;
  instanceId: string;
  key: string;
}

/** The answer already kept under a key, and the request it answered. */
export interface Stored {
  route: string;
  requestHash: Buffer;
  status: number;
  response: string;
}

const EXPIRED = `created_at <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`;

/**
 * Inserts the key's row, or takes over one that expired or whose request kept no answer; else
 * returns nothing. A row another transaction inserted and has not committed makes this wait for
 * that transaction's outcome, so a concurrent duplicate reads the first one's answer rather than
 * doing the work again. The same statement removes a few expired keys of the instance, skipping
 * any another request holds.
 */
const CLAIM = prepared(`
  WITH purged AS (
    DELETE FROM idempotency_keys
     WHERE (tenant_id, instance_id, key) IN (
       SELECT tenant_id, instance_id, key FROM idempotency_keys
        WHERE tenant_id = $1 AND instance_id = $2 AND key <> $3 AND ${EXPIRED}
        ORDER BY created_at LIMIT ${PURGE_PER_CLAIM}
          FOR UPDATE SKIP LOCKED))
  INSERT INTO idempotency_keys AS k (tenant_id, instance_id, key, route, request_hash)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (tenant_id, instance_id, key) DO UPDATE
     SET route = EXCLUDED.route, request_hash = EXCLUDED.request_hash, status = NULL,
         response = NULL, created_at = now()
   WHERE k.response IS NULL OR k.${EXPIRED}
  RETURNING 1 AS claimed`);

/** The live row a claim found: the same request's answer, or another request's key. */
const STORED = prepared(`
  SELECT route, request_hash, status, response FROM idempotency_keys
   WHERE tenant_id = $1 AND instance_id = $2 AND key = $3`);

const ANSWER = prepared(`
  UPDATE idempotency_keys SET status = $4, response = $5
   WHERE tenant_id = $1 AND instance_id = $2 AND key = $3`);

/**
 * The table behind `@Idempotent()`. Hand-written SQL: a conditional upsert the finders cannot
 * express, and no entity of its own, on every request that carries the header.
 */
export class IdempotencyRepository {
  /** Null when this request holds the key and is to do the work; else what the key holds. */
  async claim(
    manager: EntityManager,
    ref: KeyRef,
    route: string,
    requestHash: Buffer,
  ): Promise<Stored | null> {
    const ids = [ref.tenantId, ref.instanceId, ref.key];
    const claimed = await manager.query<unknown[]>(CLAIM, [...ids, route, requestHash]);
    if (claimed.length > 0) return null;
    const rows = await manager.query<
      { route: string; request_hash: Buffer; status: number; response: string }[]
    >(STORED, ids);
    const row = rows[0];
    // Only a row expired between the two statements and purged by another request's claim.
    if (!row) throw rowBusy();
    return {
      route: row.route,
      requestHash: row.request_hash,
      status: row.status,
      response: row.response,
    };
  }

  /** Keeps the answer with the work, in the same transaction: a rollback keeps neither. */
  async answer(
    manager: EntityManager,
    ref: KeyRef,
    status: number,
    response: string,
  ): Promise<void> {
    await manager.query(ANSWER, [ref.tenantId, ref.instanceId, ref.key, status, response]);
  }
}
