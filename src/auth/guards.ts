import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  NotFoundException,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { decode } from 'jsonwebtoken';
import { DomainError, forbidden, unauthorized } from '../common/errors';
import { unknownTenant } from '../common/unknown-tenant';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AuthFailureBudget } from './auth-failures';
import { CredentialStore, TENANT_SUSPENDED } from './credential.store';
import { secretsEqual } from './keys';
import { Principal, requestPrincipal } from './principal';
import { VerifiedTokens } from './verified-tokens';

type Request = FastifyRequest & { user?: Principal; params: Record<string, string | undefined> };

function header(request: Request, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** Dashboard callers: `X-Api-Key` when present, otherwise a JWT (passport-jwt). */
@Injectable()
export class DashboardAuthGuard extends AuthGuard('jwt') {
  /** Null with a JWKS: see VerifiedTokens. */
  private readonly verifiedTokens: VerifiedTokens | null;

  constructor(
    private readonly credentials: CredentialStore,
    private readonly failures: AuthFailureBudget,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super();
    this.verifiedTokens = config.jwt.jwksUrl ? null : new VerifiedTokens();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const apiKey = header(request, 'x-api-key');
    if (apiKey) {
      request.user = await this.failures.lookup(context, 'api', apiKey, () =>
        this.credentials.apiKeyPrincipal(apiKey),
      );
      return true;
    }
    const authorization = header(request, 'authorization');
    if (!authorization) throw unauthorized('Not authenticated');
    const known = this.verifiedTokens?.get(authorization);
    let verified = true;
    if (known) request.user = known;
    else {
      verified = (await super.canActivate(context)) as boolean;
      if (verified && request.user) this.remember(authorization, request.user);
    }
    // The signer vouches for the token, not for the tenant having been created, nor active.
    if (request.user) {
      const status = await this.credentials.tenantStatus(request.user.tenantId);
      if (status === null) throw unknownTenant();
      if (status !== 'active') throw forbidden(TENANT_SUSPENDED);
    }
    return verified;
  }

  /** Keyed by the header as sent: the same text verifies the same way until `exp`. */
  private remember(authorization: string, principal: Principal): void {
    const token = /^\S+\s+(\S+)$/.exec(authorization)?.[1];
    const exp = token ? (decode(token, { json: true })?.exp ?? null) : null;
    if (typeof exp === 'number') this.verifiedTokens?.remember(authorization, principal, exp);
  }

  override handleRequest<T>(error: unknown, user: T | false, info?: unknown): T {
    // An identity provider we cannot ask about the token's key: 503, not the token's fault.
    if (info instanceof DomainError && info.kind === 'unavailable') throw info;
    if (error || !user) throw unauthorized('Invalid or expired token');
    return user;
  }
}

/** `/internal/v1/instances/{instance_id}/…`: the proxy key must belong to that very instance. */
@Injectable()
export class InternalProxyKeyGuard implements CanActivate {
  constructor(
    private readonly credentials: CredentialStore,
    private readonly failures: AuthFailureBudget,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const match = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '');
    if (!match) throw unauthorized('Not authenticated');
    const key = match[1];
    const principal = await this.failures.lookup(context, 'proxy', key, () =>
      this.credentials.proxyKeyPrincipal(key),
    );
    if (principal.instanceId !== request.params.instance_id?.toLowerCase()) {
      await this.credentials.confirm(principal);
      throw forbidden('This proxy key belongs to another instance');
    }
    request.user = principal;
    return true;
  }
}

const CUSTOMER_ADMINS = 'hydracore:customer-admins';
/** Lets customer admins through TenantAdminGuard; the service then confines them. */
export const AllowCustomerAdmins = () => SetMetadata(CUSTOMER_ADMINS, true);

/** Role admin. Customer admins only where the route allows them, confined to their customer. */
@Injectable()
export class TenantAdminGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = requestPrincipal(context);
    if (!principal) throw unauthorized();
    const refusal = this.refusal(principal, context);
    if (!refusal) return true;
    await this.credentials.confirm(principal); // a key that no longer works: 401, not this
    throw refusal;
  }

  private refusal(principal: Principal, context: ExecutionContext): DomainError | null {
    if (principal.kind === 'instance' || principal.role !== 'admin')
      return forbidden('Admin role required');
    const customerAdmins = this.reflector.getAllAndOverride<boolean>(CUSTOMER_ADMINS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (principal.customerId !== null && !customerAdmins)
      return forbidden('Tenant admin role required');
    return null;
  }
}

/** `/platform/v1`: X-Platform-Key; the routes do not exist when PLATFORM_API_KEY is unset. */
@Injectable()
export class PlatformKeyGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.platformApiKey) throw new NotFoundException('Not Found');
    const given = header(context.switchToHttp().getRequest<Request>(), 'x-platform-key');
    if (!given || !secretsEqual(given, this.config.platformApiKey))
      throw unauthorized('Invalid platform key');
    return true;
  }
}
