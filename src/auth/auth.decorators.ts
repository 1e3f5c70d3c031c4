import { UseGuards, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import {
  AllowCustomerAdmins,
  DashboardAuthGuard,
  InternalProxyKeyGuard,
  PlatformKeyGuard,
  TenantAdminGuard,
} from './guards';
import { WireInterceptor } from '../common/wire.interceptor';
import { RateLimitGuard } from './rate-limit.guard';

/** The security schemes' names; the error answers each implies are derived in openapi-errors.ts. */
export const SECURITY = {
  bearer: 'bearer',
  apiKey: 'api_key',
  proxyKey: 'proxy_key',
  platform: 'platform_key',
};

/**
 * Dashboard routes (JWT or X-Api-Key).
 * - 'any': any principal of the tenant;
 * - 'admin': role admin, customer admins included (the service confines them to their customer);
 * - 'tenant-admin': role admin with no customer.
 */
export function DashboardAuth(access: 'any' | 'admin' | 'tenant-admin') {
  // The rate limit right after authentication: it is per principal (rate-limit.guard.ts).
  const guards = [
    DashboardAuthGuard,
    RateLimitGuard,
    ...(access === 'any' ? [] : [TenantAdminGuard]),
  ];
  return applyDecorators(
    UseGuards(...guards),
    // The last-use stamp of an API key runs inside it (RequestScope).
    UseInterceptors(WireInterceptor),
    ...(access === 'admin' ? [AllowCustomerAdmins()] : []),
    ApiBearerAuth(SECURITY.bearer),
    ApiSecurity(SECURITY.apiKey),
  );
}

/** Agent runtime routes: the proxy key of the instance in the path. */
export const InternalAuth = () =>
  applyDecorators(
    UseGuards(InternalProxyKeyGuard, RateLimitGuard),
    UseInterceptors(WireInterceptor),
    ApiBearerAuth(SECURITY.proxyKey),
  );

/** Platform routes: X-Platform-Key, limited by client IP before the key is compared. */
export const PlatformAuth = () =>
  applyDecorators(
    UseGuards(RateLimitGuard, PlatformKeyGuard),
    UseInterceptors(WireInterceptor),
    ApiSecurity(SECURITY.platform),
  );

/** A route anyone may call (the public catalogs): limited by client IP, answered on the wire. */
export const PublicRoute = () =>
  applyDecorators(UseGuards(RateLimitGuard), UseInterceptors(WireInterceptor));
