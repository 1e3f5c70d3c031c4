import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TenantDb } from '../database/tenant-db';
import { takeTurn } from '../database/turns';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export type EndpointPatch = Partial<
  Pick<WebhookEndpoint, 'url' | 'eventTypes' | 'description' | 'status' | 'failingSince'>
>;

/** Class of the advisory lock that makes a tenant's endpoint creations take turns ('WHEP'). */
const ENDPOINT_COUNT_LOCK = 0x57484550;

/** The `webhook_endpoints` table. */
@Injectable()
export class WebhookEndpointsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /**
   * The tenant's endpoints, counted after taking its turn to create one, so two creates cannot
   * both see room for one more. The count is a statement of its own, after the lock: a
   * statement's snapshot is taken when it starts, and would miss what the previous holder made.
   */
  async countForCreate(tenantId: string): Promise<number> {
    await takeTurn(this.m, ENDPOINT_COUNT_LOCK, tenantId);
    const [row] = await this.m.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1',
      [tenantId],
    );
    return row.n;
  }

  async insert(endpoint: WebhookEndpoint): Promise<WebhookEndpoint> {
    await this.m.insert(WebhookEndpoint, endpoint);
    return (await this.get(endpoint.tenantId, endpoint.id))!;
  }

  list(tenantId: string): Promise<WebhookEndpoint[]> {
    return this.m.find(WebhookEndpoint, {
      where: { tenantId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  get(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.m.findOne(WebhookEndpoint, { where: { tenantId, id } });
  }

  lock(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.m.findOne(WebhookEndpoint, {
      where: { tenantId, id },
      lock: { mode: 'pessimistic_write' },
    });
  }

  async update(endpoint: WebhookEndpoint, patch: EndpointPatch): Promise<WebhookEndpoint> {
    await this.m.update(
      WebhookEndpoint,
      { tenantId: endpoint.tenantId, id: endpoint.id },
      { ...patch, updatedAt: new Date() },
    );
    return (await this.get(endpoint.tenantId, endpoint.id))!;
  }

  /** The new secret signs from now on; the one it replaces also signs until `previousUntil`. */
  async rotate(endpoint: WebhookEndpoint, sealed: Buffer, previousUntil: Date): Promise<void> {
    await this.m.update(
      WebhookEndpoint,
      { tenantId: endpoint.tenantId, id: endpoint.id },
      {
        sealedSecret: sealed,
        previousSealedSecret: endpoint.sealedSecret,
        previousSecretUntil: previousUntil,
        updatedAt: new Date(),
      },
    );
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.m.delete(WebhookEndpoint, { tenantId, id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Locks the endpoint's row before an attempt's outcome is recorded. A claim locks endpoint
   * rows first and then updates deliveries; recording in the other order (the delivery, then
   * the endpoint's failing streak) could wait on a claim that waits on it: a deadlock. NO KEY
   * UPDATE, as the claim's, leaves deliveries free to be inserted meanwhile.
   */
  async lockForOutcome(tenantId: string, id: string): Promise<void> {
    await this.m.query(
      `SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
      [tenantId, id],
    );
  }

  /**
   * After an attempt: a success clears the endpoint's failing streak; a failure starts one, and
   * disables the endpoint once the streak is older than `disableAfterMs`. Says whether this
   * call disabled it.
   */
  async noteAttempt(
    tenantId: string,
    id: string,
    succeeded: boolean,
    disableAfterMs: number,
  ): Promise<boolean> {
    if (succeeded) {
      await this.m.query(
        `UPDATE webhook_endpoints SET failing_since = NULL
          WHERE tenant_id = $1 AND id = $2 AND failing_since IS NOT NULL`,
        [tenantId, id],
      );
      return false;
    }
    const [rows] = await this.m.query<[{ status: string }[], number]>(
      `UPDATE webhook_endpoints
          SET failing_since = coalesce(failing_since, now()),
              status = CASE WHEN failing_since <= now() - make_interval(secs => $3::double precision / 1000)
                            THEN 'disabled' ELSE status END,
              updated_at = CASE WHEN failing_since <= now() - make_interval(secs => $3::double precision / 1000)
                                THEN now() ELSE updated_at END
        WHERE tenant_id = $1 AND id = $2 AND status = 'enabled'
        RETURNING status`,
      [tenantId, id, disableAfterMs],
    );
    return rows.length > 0 && rows[0].status === 'disabled';
  }
}
