import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Role } from '../directory/directory.entities';

/** Who is calling, resolved from the credential (DESIGN.md §2). */
export interface Principal {
  kind: 'user' | 'api_key' | 'instance';
  tenantId: string;
  customerId: string | null;
  role: Role;
  /** JWT `sub`, API key id or proxy key id: for logs and audit. */
  subject: string;
  instanceId?: string;
}

export const isTenantAdmin = (p: Principal) => p.role === 'admin' && p.customerId === null;

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
