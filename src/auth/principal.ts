import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { forbidden } from '../common/errors';
import type { CallerCheck } from '../database/tenant-db';
import type { Role } from './roles';

/** Who is calling, resolved from the credential: a user, an API key or an instance. */
export interface Principal {
  kind: 'user' | 'api_key' | 'instance';
  tenantId: string;
  customerId: string | null;
  role: Role;
  /** JWT `sub`, API key id or proxy key id: for logs and audit. */
  subject: string;
  instanceId?: string;
  /** An API key whose last_used_at is a minute old or more: the request stamps it. */
  lastUseStale?: true;
  /** A remembered key's check, which the request's transaction runs (see CredentialStore). */
  check?: CallerCheck;
}

export const isTenantAdmin = (p: Principal) => p.role === 'admin' && p.customerId === null;

/** A customer-scoped principal may touch its own customer only: another customer's row is 403. */
export function assertCustomerAccess(p: Principal, customerId: string): void {
  if (p.customerId !== null && p.customerId !== customerId)
    throw forbidden('Not allowed for this customer');
}

interface WithPrincipal {
  user?: Principal;
}

export function requestPrincipal(context: ExecutionContext): Principal | undefined {
  return context.switchToHttp().getRequest<WithPrincipal>().user;
}

/** The authenticated principal; only on routes behind an authentication guard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const principal = requestPrincipal(context);
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});

/**
 * The customer filter of a list: a customer-scoped principal sees its own customer (asking for
 * another is a 403); others see what they asked for, or everything.
 */
export function customerScope(p: Principal, requested?: string): string | undefined {
  if (p.customerId === null) return requested;
  if (requested !== undefined && requested !== p.customerId)
    throw forbidden('Not allowed for this customer');
  return p.customerId;
}
