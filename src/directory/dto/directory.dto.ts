import { applyDecorators } from '@nestjs/common';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Rfc3339 } from '../../common/time';
import { WireField, trimLower } from '../../common/wire';
import { ROLES, Role } from '../../auth/roles';
import { ApiKey, ProxyKey, TENANT_STATUSES, TenantStatus } from '../directory.entities';

/** A person's email and phone, read alike at creation and update (decorators run bottom up). */
const EmailField = () =>
  applyDecorators(
    MaxLength(320),
    IsEmail(),
    WireField({
      optional: true,
      nullable: true,
      format: 'email',
      maxLength: 320,
      normalize: trimLower,
    }),
  );
const PhoneField = () =>
  applyDecorators(
    MaxLength(32),
    MinLength(1),
    IsString(),
    WireField({ optional: true, nullable: true, maxLength: 32, example: '+447700900123' }),
  );

export class CreateNamedDto {
  @WireField({ minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
}

export class CreatePersonDto extends CreateNamedDto {
  @EmailField() email?: string | null;

  @PhoneField() phone?: string | null;
}

/** Each field validated as at creation; an absent field is kept, a null email or phone cleared. */
export class UpdatePersonDto {
  @WireField({ optional: true, minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @EmailField() email?: string | null;

  @PhoneField() phone?: string | null;
}

export class UpdateTenantDto {
  @WireField({ enum: TENANT_STATUSES }) @IsIn(TENANT_STATUSES) status!: TenantStatus;
}

export const TENANT_PAGE_DEFAULT = 50;
export const TENANT_PAGE_MAX = 100;

export class TenantListQuery {
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 1,
    maximum: TENANT_PAGE_MAX,
    default: TENANT_PAGE_DEFAULT,
  })
  @IsInt()
  @Min(1)
  @Max(TENANT_PAGE_MAX)
  limit?: number;

  @WireField({
    optional: true,
    format: 'uuid',
    description: 'The last tenant id of the previous page: tenants are listed by id',
  })
  @IsUUID()
  after?: string;
}

/** Hours the old key keeps working after a rotation, unless the request says otherwise. */
export const PROXY_KEY_GRACE_HOURS = 24;

export class RotateProxyKeyDto {
  @WireField({
    optional: true,
    type: 'integer',
    minimum: 0,
    maximum: 168,
    default: PROXY_KEY_GRACE_HOURS,
    description: 'How long the old key keeps working; 0 ends it at once',
  })
  @IsInt()
  @Min(0)
  @Max(168)
  graceHours?: number;
}

export class CreateApiKeyDto extends CreateNamedDto {
  @WireField({ enum: ROLES }) @IsIn(ROLES) role!: Role;

  @WireField({
    optional: true,
    nullable: true,
    format: 'uuid',
    description: 'Confines the key to one customer',
  })
  @IsUUID()
  customerId?: string | null;

  @Rfc3339({ description: 'When the key stops working; in the future. Never, when absent' })
  expiresAt?: string | null;
}

/** Returned once, at creation: the only time the key itself is ever shown. */
export class IssuedApiKey extends ApiKey {
  @WireField({ description: 'The key. Shown once; store it now.', example: 'hc_live_…' })
  key!: string;
}

export class IssuedProxyKey extends ProxyKey {
  @WireField({ description: 'The key. Shown once; store it now.', example: 'hc_proxy_…' })
  key!: string;
}

export class KeyListQuery {
  @WireField({
    optional: true,
    query: 'bool',
    type: 'boolean',
    default: false,
    description: 'Include revoked keys',
  })
  @IsBoolean()
  includeRevoked?: boolean;
}
