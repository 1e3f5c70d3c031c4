import { Injectable } from '@nestjs/common';
import { EntityManager, FindOptionsWhere, In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { conflict } from '../common/errors';
import { isUniqueViolation } from '../database/rows';
import { TenantDb } from '../database/tenant-db';
import { takeTurn } from '../database/turns';
import { ChannelEndpoint } from './channel-endpoint.entity';
import { ChannelType } from './providers';

export type ChannelPatch = Partial<
  Pick<
    ChannelEndpoint,
    'config' | 'enabled' | 'errorMessage' | 'externalIdentifier' | 'provider' | 'status'
  >
>;

/** Endpoints of one provider (if given) matching any of the alternatives. */
export interface ChannelFilter {
  provider?: string;
  alternatives: { channelTypes?: ChannelType[]; externalIdentifier?: string }[];
}

const ROUTING_KEY = 'channel_endpoints_routing_key';
const duplicate = (e: Pick<ChannelEndpoint, 'channelType' | 'provider' | 'externalIdentifier'>) =>
  conflict(
    `A ${e.channelType} endpoint on ${e.provider} for ${e.externalIdentifier} already exists`,
  );

/** Class of the advisory lock that serialises endpoint creation within an instance ('CHAN'). */
const CHANNEL_COUNT_LOCK = 0x4348414e;

@Injectable()
export class ChannelsRepository {
  constructor(private readonly db: TenantDb) {}

  private get m(): EntityManager {
    return this.db.manager;
  }

  /** The instance's endpoints, counted after taking its turn to create one. */
  async countForCreate(tenantId: string, instanceId: string): Promise<number> {
    await takeTurn(this.m, CHANNEL_COUNT_LOCK, instanceId);
    const [row] = await this.m.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM channel_endpoints WHERE tenant_id = $1 AND instance_id = $2',
      [tenantId, instanceId],
    );
    return row.n;
  }

  list(
    tenantId: string,
    instanceId: string,
    filter: ChannelFilter = { alternatives: [{}] },
  ): Promise<ChannelEndpoint[]> {
    const where = filter.alternatives.map((a): FindOptionsWhere<ChannelEndpoint> => ({
      tenantId,
      instanceId,
      ...(filter.provider === undefined ? {} : { provider: filter.provider }),
      ...(a.channelTypes === undefined ? {} : { channelType: In(a.channelTypes) }),
      ...(a.externalIdentifier === undefined ? {} : { externalIdentifier: a.externalIdentifier }),
    }));
    return this.m.find(ChannelEndpoint, {
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  lock(tenantId: string, instanceId: string, id: string): Promise<ChannelEndpoint | null> {
    return this.m.findOne(ChannelEndpoint, {
      where: { tenantId, instanceId, id },
      lock: { mode: 'pessimistic_write' },
    });
  }

  async insert(endpoint: ChannelEndpoint): Promise<ChannelEndpoint> {
    try {
      // jsonb `config` is a plain object; TypeORM's partial type cannot express that
      await this.m.insert(ChannelEndpoint, endpoint as QueryDeepPartialEntity<ChannelEndpoint>);
    } catch (error) {
      if (isUniqueViolation(error, ROUTING_KEY)) throw duplicate(endpoint);
      throw error;
    }
    return endpoint;
  }

  /** Called with the row locked (`lock`), so the read after the write sees this update. */
  async update(endpoint: ChannelEndpoint, patch: ChannelPatch): Promise<ChannelEndpoint> {
    const key = { tenantId: endpoint.tenantId, id: endpoint.id };
    try {
      // jsonb `config` is a plain object; TypeORM's partial type cannot express that
      await this.m.update(ChannelEndpoint, key, patch as QueryDeepPartialEntity<ChannelEndpoint>);
    } catch (error) {
      if (isUniqueViolation(error, ROUTING_KEY)) throw duplicate({ ...endpoint, ...patch });
      throw error;
    }
    return this.m.findOneByOrFail(ChannelEndpoint, key); // updated_at as the database set it
  }

  async delete(tenantId: string, instanceId: string, id: string): Promise<boolean> {
    const result = await this.m.delete(ChannelEndpoint, { tenantId, instanceId, id });
    return (result.affected ?? 0) > 0;
  }
}
