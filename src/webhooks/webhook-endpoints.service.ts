import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { secretChanged } from '../audit/changes';
import { conflict, invalidField, notFound } from '../common/errors';
import { SecretBox } from '../common/secret-box';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { DirectoryService } from '../directory/directory.service';
import { EventLogService } from '../event-log/event-log.service';
import { DeliveriesQuery } from './dto/webhook-deliveries.dto';
import {
  CreateWebhookEndpointDto,
  CreatedWebhookEndpoint,
  ENDPOINT_LIMITS,
  ReplayDto,
  ReplayQueued,
  RotatedSecret,
  UpdateWebhookEndpointDto,
} from './dto/webhook-endpoints.dto';
import { refuseDestination } from './destination';
import { newSecret, secretBinding } from './signing';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { EndpointPatch, WebhookEndpointsRepository } from './webhook-endpoints.repository';

/** How long a rotated-out secret keeps signing beside the new one. */
const ROTATION_OVERLAP_MS = 24 * 3_600_000;
/** Events one replay queues at most; it says where to go on from when it stops there. */
export const REPLAY_LIMIT = 10_000;
/**
 * Pending deliveries past which a tenant's replays are refused. Replays are the one way a
 * tenant queues deliveries faster than its events occur; the dispatcher drains any backlog at
 * the same cost per claim, but a backlog of millions is rows, index and vacuum for everyone.
 */
export const REPLAY_MAX_PENDING = 50_000;

/** What the audit log shows of an endpoint's changes; its secrets only as rotated. */
const ENDPOINT_FIELDS = ['url', 'eventTypes', 'instanceId', 'description', 'status'] as const;

/** The tenant admin's webhook endpoints and their delivery console. */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly directory: DirectoryService,
    private readonly log: EventLogService,
    private readonly box: SecretBox,
    private readonly db: TenantDb,
    private readonly dispatcher: WebhookDispatcher,
    private readonly audit: AuditService,
  ) {}

  async create(tenantId: string, dto: CreateWebhookEndpointDto): Promise<CreatedWebhookEndpoint> {
    await this.checkUrl(dto.url);
    if (dto.instanceId) await this.directory.getInstance(tenantId, dto.instanceId);
    if ((await this.endpoints.countForCreate(tenantId)) >= ENDPOINT_LIMITS.perTenant) {
      throw conflict(`A tenant may have at most ${ENDPOINT_LIMITS.perTenant} webhook endpoints`);
    }
    const id = randomUUID();
    const secret = newSecret();
    const endpoint = await this.endpoints.insert(
      Object.assign(new WebhookEndpoint(), {
        tenantId,
        id,
        url: dto.url,
        eventTypes: dto.eventTypes ?? ['*'],
        instanceId: dto.instanceId ?? null,
        description: dto.description ?? null,
        status: 'enabled',
        failingSince: null,
        sealedSecret: this.seal(tenantId, id, secret),
        previousSealedSecret: null,
        previousSecretUntil: null,
      }),
    );
    await this.audit.created('webhook_endpoint', endpoint, ENDPOINT_FIELDS);
    return Object.assign(new CreatedWebhookEndpoint(), endpoint, { secret });
  }

  list(tenantId: string): Promise<WebhookEndpoint[]> {
    return this.endpoints.list(tenantId);
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.get(tenantId, id);
    if (!endpoint) throw notFound('Webhook endpoint');
    return endpoint;
  }

  async update(
    tenantId: string,
    id: string,
    dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpoint> {
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    const endpoint = await this.locked(tenantId, id);
    const patch: EndpointPatch = {};
    for (const key of ['url', 'eventTypes', 'description', 'status'] as const) {
      if (dto[key] !== undefined) Object.assign(patch, { [key]: dto[key] });
    }
    // Enabled again by hand: its failing streak starts afresh, or the next failure disables it.
    if (dto.status === 'enabled' && endpoint.status === 'disabled') patch.failingSince = null;
    const before = { ...endpoint };
    const after =
      Object.keys(patch).length === 0 ? endpoint : await this.endpoints.update(endpoint, patch);
    await this.audit.updated('webhook_endpoint', before, after, ENDPOINT_FIELDS);
    return after;
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.endpoints.delete(tenantId, id))) throw notFound('Webhook endpoint');
    await this.recordOn(id, 'webhook_endpoint.deleted');
  }

  async rotate(tenantId: string, id: string): Promise<RotatedSecret> {
    const endpoint = await this.locked(tenantId, id);
    const secret = newSecret();
    await this.endpoints.rotate(
      endpoint,
      this.seal(tenantId, id, secret),
      new Date(Date.now() + ROTATION_OVERLAP_MS),
    );
    await this.audit.record({
      action: 'webhook_endpoint.secret_rotated',
      targetType: 'webhook_endpoint',
      targetId: id,
      changes: secretChanged('secret'),
    });
    return Object.assign(new RotatedSecret(), { secret });
  }

  async deliveryPage(
    tenantId: string,
    endpointId: string,
    q: DeliveriesQuery,
  ): Promise<WebhookDelivery[]> {
    await this.get(tenantId, endpointId);
    return this.deliveries.page(tenantId, endpointId, q);
  }

  async retry(tenantId: string, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.get(tenantId, endpointId);
    const delivery = await this.deliveries.retry(tenantId, endpointId, deliveryId);
    if (!delivery) throw notFound('Webhook delivery');
    await this.audit.record({
      action: 'webhook_delivery.retried',
      targetType: 'webhook_delivery',
      targetId: deliveryId,
    });
    this.db.afterCommit(() => this.dispatcher.kick(tenantId));
    return delivery;
  }

  /**
   * Queues again every event of the endpoint's types (and instance) that occurred since `since`,
   * delivered before or not, at most REPLAY_LIMIT events a call, in feed order from after the
   * position `after`; receivers tell a repeat by its `webhook-id`.
   */
  async replay(tenantId: string, endpointId: string, dto: ReplayDto): Promise<ReplayQueued> {
    const endpoint = await this.get(tenantId, endpointId);
    const pending = await this.deliveries.pendingForReplay(tenantId, REPLAY_MAX_PENDING);
    if (pending >= REPLAY_MAX_PENDING) {
      throw conflict(
        `The tenant has ${REPLAY_MAX_PENDING.toLocaleString('en')} webhook deliveries pending or more: replay once fewer are`,
      );
    }
    const heads = await this.log.headsSince(
      tenantId,
      new Date(dto.since),
      dto.after ?? 0,
      REPLAY_LIMIT + 1,
    );
    const left = heads.length > REPLAY_LIMIT ? heads.pop()! : null;
    const nextAfter = left ? heads[heads.length - 1].sequence : null;
    // Kept for clients written before next_after; see ReplayQueued.
    const nextSince = left?.occurredAt ?? null;
    const all = endpoint.eventTypes.includes('*');
    const matching = heads.filter(
      (e) =>
        (all || endpoint.eventTypes.includes(e.type)) &&
        (endpoint.instanceId === null ||
          e.instanceId === null ||
          e.instanceId === endpoint.instanceId),
    );
    const queued = await this.deliveries.requeue(tenantId, endpointId, matching);
    await this.recordOn(endpointId, 'webhook_endpoint.replayed');
    if (queued > 0) this.db.afterCommit(() => this.dispatcher.kick(tenantId));
    return Object.assign(new ReplayQueued(), { queued, nextAfter, nextSince });
  }

  private recordOn(endpointId: string, action: string): Promise<void> {
    return this.audit.record({ action, targetType: 'webhook_endpoint', targetId: endpointId });
  }

  private async locked(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.lock(tenantId, id);
    if (!endpoint) throw notFound('Webhook endpoint');
    return endpoint;
  }

  private async checkUrl(url: string): Promise<void> {
    const refusal = await refuseDestination(url, this.config.webhooks);
    if (refusal !== null) throw invalidField('url', refusal);
  }

  /** Bound to its endpoint: a sealed secret copied into another row does not open. */
  private seal(tenantId: string, id: string, secret: string): Buffer {
    return this.box.seal(secret, secretBinding(tenantId, id));
  }
}
