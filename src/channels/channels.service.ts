import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { invalidField, notFound } from '../common/errors';
import { SecretBox } from '../common/secret-box';
import { DirectoryService } from '../directory/directory.service';
import { PHONE_CHANNELS, normalisePhone } from '../worker-bindings/addresses';
import { ChannelEndpoint } from './channel-endpoint.entity';
import { ChannelPatch, ChannelsRepository } from './channels.repository';
import { CreateChannelDto, UpdateChannelDto } from './dto/channels.dto';
import { ChannelType, PROVIDERS } from './providers';

@Injectable()
export class ChannelsService {
  constructor(
    private readonly repo: ChannelsRepository,
    private readonly directory: DirectoryService,
    private readonly box: SecretBox,
  ) {}

  async list(tenantId: string, instanceId: string): Promise<ChannelEndpoint[]> {
    await this.directory.getInstance(tenantId, instanceId);
    return this.repo.list(tenantId, instanceId);
  }

  async create(
    tenantId: string,
    instanceId: string,
    dto: CreateChannelDto,
  ): Promise<ChannelEndpoint> {
    await this.directory.getInstance(tenantId, instanceId);
    assertProvider(dto.channelType, dto.provider);
    const id = randomUUID();
    return this.repo.insert(
      Object.assign(new ChannelEndpoint(), {
        id,
        tenantId,
        instanceId,
        channelType: dto.channelType,
        provider: dto.provider,
        externalIdentifier: canonicalIdentifier(dto.channelType, dto.externalIdentifier),
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
    if (patch.externalIdentifier !== undefined) {
      patch.externalIdentifier = canonicalIdentifier(
        endpoint.channelType,
        patch.externalIdentifier,
      );
    }
    return Object.keys(patch).length === 0 ? endpoint : this.repo.update(endpoint, patch);
  }

  async delete(tenantId: string, instanceId: string, id: string): Promise<void> {
    if (!(await this.repo.delete(tenantId, instanceId, id))) throw notFound('Channel endpoint');
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

/**
 * Inbound webhooks are routed by (type, provider, identifier), and uniqueness is checked on it,
 * so a phone number is stored in the one spelling bindings use: two spellings of one number
 * would otherwise be two endpoints, and the second would never receive a message. Some
 * providers name a phone endpoint by an id of their own (Meta's numeric phone_number_id, a
 * Retell agent id): an identifier is read as a phone number when it is written as one, with a
 * `+` or a leading 0, and anything else is kept as written.
 */
const WRITTEN_AS_PHONE = /^\s*0|\+/;

function canonicalIdentifier(channelType: ChannelType, raw: string): string {
  if (!PHONE_CHANNELS.includes(channelType)) return raw;
  if (!WRITTEN_AS_PHONE.test(raw)) return raw;
  const result = normalisePhone(raw);
  if (!result.ok) {
    throw invalidField('externalIdentifier', `external_identifier ${result.reason}`);
  }
  return result.address;
}
