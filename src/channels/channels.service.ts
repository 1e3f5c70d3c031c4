import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { conflict, invalidField, notFound } from '../common/errors';
import { SecretBox } from '../common/secret-box';
import { DirectoryService } from '../directory/directory.service';
import { ChannelEndpoint } from './channel-endpoint.entity';
import { ChannelFilter, ChannelPatch, ChannelsRepository } from './channels.repository';
import {
  CHANNELS_PER_INSTANCE,
  CreateChannelDto,
  RuntimeChannelsQuery,
  UpdateChannelDto,
} from './dto/channels.dto';
import { canonicalIdentifier, identifierMatches } from './identifiers';
import { ChannelType, PROVIDERS } from './providers';

/** What the audit log shows of an endpoint's changes. */
const CHANNEL_FIELDS = [
  'instanceId',
  'channelType',
  'provider',
  'externalIdentifier',
  'config',
  'connectionId',
  'credentialId',
  'enabled',
  'status',
  'errorMessage',
  'webhookSecret',
] as const;
/** The secret, and free-form config, which may carry a provider's tokens: shown as changed only. */
const WITHHELD = ['config', 'webhookSecret'] as const;

@Injectable()
export class ChannelsService {
  constructor(
    private readonly repo: ChannelsRepository,
    private readonly directory: DirectoryService,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async list(tenantId: string, instanceId: string): Promise<ChannelEndpoint[]> {
    await this.directory.getInstance(tenantId, instanceId);
    return this.repo.list(tenantId, instanceId);
  }

  /**
   * The runtime's view of its own instance's endpoints. An identifier filter matches the
   * spelling create stores for each type, so `+44 (0) 7700 900123` finds `+447700900123`; a
   * phone-like identifier that is no phone number is a 422 only when the type asked for is a
   * phone channel, and otherwise simply matches no phone endpoint.
   */
  listForRuntime(
    tenantId: string,
    instanceId: string,
    q: RuntimeChannelsQuery,
  ): Promise<ChannelEndpoint[]> {
    const types = q.channelType === undefined ? undefined : [q.channelType];
    const filter: ChannelFilter = { provider: q.provider, alternatives: [{ channelTypes: types }] };
    if (q.externalIdentifier !== undefined) {
      const { matches, refused } = identifierMatches(q.externalIdentifier, types);
      if (matches.length === 0) {
        throw invalidField(
          'externalIdentifier',
          `external_identifier ${refused[0].reason}`,
          'value_error',
          [],
          'query',
        );
      }
      filter.alternatives = matches;
    }
    return this.repo.list(tenantId, instanceId, filter);
  }

  async create(
    tenantId: string,
    instanceId: string,
    dto: CreateChannelDto,
  ): Promise<ChannelEndpoint> {
    // Held, not only read: an endpoint created while the instance is being deleted would
    // otherwise outlive it, holding its address's routing key.
    await this.directory.holdInstance(tenantId, instanceId);
    assertProvider(dto.channelType, dto.provider);
    // 409, not 422: the request is well formed, the instance is full; deleting one makes room.
    // The bound keeps an instance's list, read whole, within what one response may weigh.
    if ((await this.repo.countForCreate(tenantId, instanceId)) >= CHANNELS_PER_INSTANCE) {
      throw conflict(
        `An instance has at most ${CHANNELS_PER_INSTANCE} channel endpoints: delete one before creating another`,
      );
    }
    const id = randomUUID();
    const endpoint = await this.repo.insert(
      Object.assign(new ChannelEndpoint(), {
        id,
        tenantId,
        instanceId,
        channelType: dto.channelType,
        provider: dto.provider,
        externalIdentifier: storedIdentifier(dto.channelType, dto.externalIdentifier, dto.provider),
        config: dto.config ?? {},
        connectionId: dto.connectionId ?? null,
        credentialId: dto.credentialId ?? null,
        enabled: dto.enabled ?? true,
        status: 'pending',
        errorMessage: null,
        lastEventAt: null,
        webhookSecret: dto.webhookSecret
          ? this.box.seal(dto.webhookSecret, `${tenantId}:${id}`)
          : null,
      }),
    );
    await this.audit.created('channel_endpoint', endpoint, CHANNEL_FIELDS, WITHHELD);
    return endpoint;
  }

  async update(
    tenantId: string,
    instanceId: string,
    id: string,
    dto: UpdateChannelDto,
  ): Promise<ChannelEndpoint> {
    const endpoint = await this.repo.lock(tenantId, instanceId, id);
    if (!endpoint) throw notFound('Channel endpoint');
    if (dto.channelType !== undefined && dto.channelType !== endpoint.channelType) {
      throw invalidField('channelType', 'channel_type cannot change; create a new endpoint');
    }
    if (dto.provider !== undefined) assertProvider(endpoint.channelType, dto.provider);
    const patch: ChannelPatch = {};
    for (const key of [
      'config',
      'enabled',
      'errorMessage',
      'externalIdentifier',
      'provider',
      'status',
    ] as const) {
      if (dto[key] !== undefined) Object.assign(patch, { [key]: dto[key] });
    }
    // A new provider may read the identifier kept from before differently (twilio: a number).
    if (patch.externalIdentifier !== undefined || patch.provider !== undefined) {
      patch.externalIdentifier = storedIdentifier(
        endpoint.channelType,
        patch.externalIdentifier ?? endpoint.externalIdentifier,
        patch.provider ?? endpoint.provider,
      );
    }
    const before = { ...endpoint };
    const after =
      Object.keys(patch).length === 0 ? endpoint : await this.repo.update(endpoint, patch);
    await this.audit.updated('channel_endpoint', before, after, CHANNEL_FIELDS, WITHHELD);
    return after;
  }

  async delete(tenantId: string, instanceId: string, id: string): Promise<void> {
    if (!(await this.repo.delete(tenantId, instanceId, id))) throw notFound('Channel endpoint');
    await this.audit.record({
      action: 'channel_endpoint.deleted',
      targetType: 'channel_endpoint',
      targetId: id,
    });
  }
}

function assertProvider(channelType: ChannelType, provider: string): void {
  const allowed = PROVIDERS[channelType];
  if (!allowed.includes(provider)) {
    throw invalidField(
      'provider',
      `provider for ${channelType} must be one of: ${allowed.join(', ')}`,
      'enum',
    );
  }
}

/** The identifier as stored (see canonicalIdentifier); one that cannot be is a 422. */
function storedIdentifier(channelType: ChannelType, raw: string, provider: string): string {
  const result = canonicalIdentifier(channelType, raw, provider);
  if (!result.ok) {
    throw invalidField('externalIdentifier', `external_identifier ${result.reason}`);
  }
  return result.address;
}
