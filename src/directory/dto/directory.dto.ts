import { IsBoolean, IsEmail, IsIn, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { WireField, trimLower } from '../../common/wire';
import { ROLES, Role } from '../../auth/roles';
import { ApiKey, ProxyKey } from '../directory.entities';

export class CreateNamedDto {
  @WireField({ minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
}

export class CreatePersonDto extends CreateNamedDto {
  @WireField({
    optional: true,
    nullable: true,
    format: 'email',
    maxLength: 320,
    normalize: trimLower,
  })
  @IsEmail()
  @MaxLength(320)
  email?: string | null;

  @WireField({ optional: true, nullable: true, maxLength: 32, example: '+447700900123' })
  @IsString()
  @MinLength(1)
  @MaxLength(32)
  phone?: string | null;
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
