import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { conflict } from '../common/errors';
import { prepared } from '../database/prepared';
import { hydrate, isUniqueViolation } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
import { LIST_MOST } from '../common/list';
import { BindingChannel } from './addresses';
import { WorkerBinding } from './worker-binding.entity';

export type NewBinding = Pick<
  WorkerBinding,
  'customerId' | 'personId' | 'instanceId' | 'channelType' | 'channelAddress' | 'previousBindingId'
>;

/**
 * The runtime's lookup for every inbound message. `status <> 'revoked'` is written as text, not
 * bound: it is the predicate of the partial unique index worker_bindings_live_address, and the
 * planner can use that index only where it can prove the predicate, which a parameter (in the
 * generic plan a prepared statement settles on) does not let it do.
 */
export const LIVE_BINDING_SQL = `
  SELECT id, tenant_id, customer_id, person_id, instance_id, channel_type, channel_address,
         status, verified_at, revoked_at, previous_binding_id, created_at, updated_at
    FROM worker_bindings
   WHERE tenant_id = $1 AND channel_type = $2 AND channel_address = $3 AND status <> 'revoked'`;

@Injectable()
export class WorkerBindingsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  list(tenantId: string, customerId: string): Promise<WorkerBinding[]> {
    return this.m.find(WorkerBinding, {
      where: { tenantId, customerId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: LIST_MOST,
    });
  }

  /** The live (not revoked) binding of a normalised address, if any: at most one, by the index. */
  async findLive(
    tenantId: string,
    channelType: BindingChannel,
    address: string,
  ): Promise<WorkerBinding | null> {
    const rows = await this.m.query<Record<string, unknown>[]>(prepared(LIVE_BINDING_SQL), [
      tenantId,
      channelType,
      address,
    ]);
    return rows.length === 0 ? null : hydrate(this.m, WorkerBinding, rows[0]);
  }

  find(tenantId: string, id: string): Promise<WorkerBinding | null> {
    return this.m.findOneBy(WorkerBinding, { tenantId, id });
  }

  /** Row-locked until the request's transaction ends: changes to one binding are serialised. */
  lock(tenantId: string, id: string): Promise<WorkerBinding | null> {
    return this.m.findOne(WorkerBinding, {
      where: { tenantId, id },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /** New bindings start unverified; a live binding on the same address is a 409. */
  async insert(tenantId: string, values: NewBinding): Promise<WorkerBinding> {
    const binding = Object.assign(new WorkerBinding(), {
      id: randomUUID(),
      tenantId,
      status: 'unverified',
      verifiedAt: null,
      revokedAt: null,
      ...values,
    });
    try {
      await this.m.insert(WorkerBinding, binding);
    } catch (error) {
      if (isUniqueViolation(error, 'worker_bindings_live_address')) {
        throw conflict(
          `Channel address ${values.channelAddress} (${values.channelType}) is already bound`,
        );
      }
      throw error;
    }
    return binding;
  }

  async setStatus(binding: WorkerBinding, status: 'verified' | 'revoked'): Promise<WorkerBinding> {
    const stamp = status === 'verified' ? 'verified_at' : 'revoked_at';
    const [rows] = await this.m.query<[Record<string, unknown>[], number]>(
      `UPDATE worker_bindings SET status = $3, ${stamp} = now(), updated_at = now()
        WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [binding.tenantId, binding.id, status],
    );
    return hydrate(this.m, WorkerBinding, rows[0]);
  }

  /**
   * Replaces the addresses of a person's bindings by tombstones and revokes the live ones, row
   * locks first; says which were live.
   */
  async erasePerson(
    tenantId: string,
    customerId: string,
    personId: string,
  ): Promise<{ binding: WorkerBinding; wasLive: boolean; before: WorkerBinding }[]> {
    const [rows] = await this.m.query<
      [(Record<string, unknown> & { was_live: boolean; old_status: string })[], number]
    >(
      `WITH old AS (
         SELECT id, status AS old_status, status <> 'revoked' AS was_live FROM worker_bindings
          WHERE tenant_id = $1 AND customer_id = $2 AND person_id = $3
          ORDER BY created_at, id FOR UPDATE)
       UPDATE worker_bindings w
          SET channel_address = 'erased:' || w.id::text, status = 'revoked',
              revoked_at = coalesce(w.revoked_at, now()), updated_at = now()
         FROM old WHERE w.tenant_id = $1 AND w.id = old.id
       RETURNING w.*, old.was_live, old.old_status`,
      [tenantId, customerId, personId],
    );
    return rows.map(({ was_live, old_status, ...row }) => {
      const binding = hydrate(this.m, WorkerBinding, row);
      // As it was, but for the address, which the audit log never shows.
      const before = Object.assign(new WorkerBinding(), binding, {
        status: old_status,
        revokedAt: was_live ? null : binding.revokedAt,
      });
      return { binding, wasLive: was_live, before };
    });
  }

  /**
   * The answers kept for Idempotency-Key replays that are one of these bindings (create and
   * rebind answer with the binding) get its tombstone in place of the address, the rest of the
   * text as it was sent: a replay after an erasure shows the answer without the address.
   */
  async scrubStoredAnswers(tenantId: string, bindingIds: readonly string[]): Promise<void> {
    if (bindingIds.length === 0) return;
    await this.m.query(
      `UPDATE idempotency_keys k
          SET response = regexp_replace(k.response, '"channel_address":"(?:[^"\\\\]|\\\\.)*"',
                                        '"channel_address":"erased:' || b.id || '"')
         FROM unnest($2::uuid[]) AS b(id)
        WHERE k.tenant_id = $1 AND strpos(k.response, b.id::text) > 0
          AND k.response::jsonb ->> 'id' = b.id::text`,
      [tenantId, bindingIds],
    );
  }
}
