import { IsBoolean, IsIn, IsObject, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { listEnvelope } from '../../common/list';
import { WireField } from '../../common/wire';
import { ChannelEndpoint } from '../channel-endpoint.entity';
import {
  ALL_PROVIDERS,
  CHANNEL_STATUSES,
  CHANNEL_TYPES,
  ChannelStatus,
  ChannelType,
} from '../providers';
import { KiB, MaxJsonBytes } from '../../common/json-limits';

/** A channel's config is settings, not data: small enough that a tenant's channel list stays light. */
const CHANNEL_CONFIG_CAP = 16 * KiB;
/** An instance's endpoints: its lists are read whole, so their number is bounded. */
export const CHANNELS_PER_INSTANCE = 200;
/** What a provider's error says: a line for a dashboard, not a log. */
const ERROR_MESSAGE_MAX = 2000;

const PROVIDER_HINT = `One of ${ALL_PROVIDERS.join(', ')}, suited to the channel type`;

export class CreateChannelDto {
  @WireField({ enum: CHANNEL_TYPES }) @IsIn(CHANNEL_TYPES) channelType!: ChannelType;

  @WireField({
    optional: true,
    json: true,
    description: `Channel-specific config (streaming mode, processing rules, etc.). At most ${CHANNEL_CONFIG_CAP / KiB} KiB as JSON.`,
  })
  @IsObject()
  @MaxJsonBytes(CHANNEL_CONFIG_CAP)
  config?: Record<string, unknown>;

  @WireField({
    optional: true,
    nullable: true,
    format: 'uuid',
    description: 'FK to customer_connections for customer-owned channels',
  })
  @IsUUID()
  connectionId?: string | null;

  @WireField({
    optional: true,
    nullable: true,
    format: 'uuid',
    description: 'FK to mcp_credentials for platform-provisioned channels',
  })
  @IsUUID()
  credentialId?: string | null;

  @WireField({ optional: true, default: true }) @IsBoolean() enabled?: boolean;

  @WireField({
    minLength: 1,
    maxLength: 255,
    description: 'Phone number, bot username, email address, etc.',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  externalIdentifier!: string;

  @WireField({ minLength: 1, maxLength: 50, description: PROVIDER_HINT })
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  provider!: string;

  @WireField({
    optional: true,
    nullable: true,
    maxLength: 1024,
    writeOnly: true,
    description: 'Write-only; stored encrypted',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  webhookSecret?: string | null;
}

/** Only the fields sent change. */
export class UpdateChannelDto {
  @WireField({
    optional: true,
    json: true,
    description: `At most ${CHANNEL_CONFIG_CAP / KiB} KiB as JSON.`,
  })
  @IsObject()
  @MaxJsonBytes(CHANNEL_CONFIG_CAP)
  config?: Record<string, unknown>;
  @WireField({ optional: true }) @IsBoolean() enabled?: boolean;

  @WireField({ optional: true, nullable: true, type: 'string', maxLength: ERROR_MESSAGE_MAX })
  @IsString()
  @MaxLength(ERROR_MESSAGE_MAX)
  errorMessage?: string | null;

  @WireField({ optional: true, minLength: 1, maxLength: 255 })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  externalIdentifier?: string;

  @WireField({ optional: true, minLength: 1, maxLength: 50, description: PROVIDER_HINT })
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  provider?: string;

  @WireField({ optional: true, enum: CHANNEL_STATUSES })
  @IsIn(CHANNEL_STATUSES)
  status?: ChannelStatus;

  @WireField({
    optional: true,
    enum: CHANNEL_TYPES,
    description: 'Cannot change; accepted only if equal',
  })
  @IsIn(CHANNEL_TYPES)
  channelType?: ChannelType;
}

export const ChannelList = listEnvelope(ChannelEndpoint, 'channels');

/** The runtime's filters on its own instance's endpoints; each one given narrows the list. */
export class RuntimeChannelsQuery {
  @WireField({ optional: true, enum: CHANNEL_TYPES })
  @IsIn(CHANNEL_TYPES)
  channelType?: ChannelType;

  @WireField({ optional: true, enum: ALL_PROVIDERS }) @IsIn(ALL_PROVIDERS) provider?: string;

  @WireField({
    optional: true,
    minLength: 1,
    maxLength: 255,
    example: '+44 7700 900123',
    description: 'Read as create reads it: a phone-like identifier matches its E.164 form',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  externalIdentifier?: string;
}
