import { DynamicModule, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';
import type { Principal } from './principal';

const WINDOW_MS = 60_000;
const AFTER_AUTH = 'hydracore:rate-limit-after-auth';
const COUNTED = Symbol('rate-limit-counted');

interface LimitedRequest {
  user?: Principal;
  [COUNTED]?: true;
}

/** Set by DashboardAuth/InternalAuth, which place RateLimitGuard right after their own guard. */
export const RateLimitAfterAuth = () => SetMetadata(AFTER_AUTH, true);

/**
 * Requests per minute per credential, in a sliding window kept in this replica's memory.
 *
 * Why it runs in two places: Nest runs global guards before route guards, so a global guard
 * cannot see the principal that the route's authentication guard resolves, and resolving the
 * key here as well would cost a second lookup per request. So this guard is global (routes
 * without authentication, and the platform routes, whose one static key is better guarded
 * before it is checked: limited by client IP) and is also placed right after the
 * authenticating guard by the auth decorators (limited by principal); on those routes the
 * global pass defers. Each request counts once. Requests refused with 401 are not counted here
 * (there is no credential to charge); wrong keys have a budget per client network
 * (auth-failures.ts).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const afterAuth = this.reflector.getAllAndOverride<boolean>(AFTER_AUTH, [
      context.getHandler(),
      context.getClass(),
    ]);
    // Skipped when already counted, or on the global pass of a route whose principal comes later.
    const skip = request[COUNTED] === true || (afterAuth && !request.user);
    if (!skip) request[COUNTED] = true;
    return Promise.resolve(skip);
  }

  /** Who pays for the request: ids from the principal, never the credential itself. */
  protected override async getTracker(request: LimitedRequest): Promise<string> {
    const principal = request.user;
    if (!principal) return `ip:${await super.getTracker(request)}`;
    switch (principal.kind) {
      case 'instance': // all proxy keys of one instance share its budget, rotation included
        return `instance:${principal.instanceId}`;
      case 'api_key':
        return `api_key:${principal.subject}`;
      case 'user':
        return `user:${principal.tenantId}:${principal.subject}`;
    }
  }

  /** One budget per caller across every route (the default key is per route). */
  protected override generateKey(_: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }
}

export function rateLimitModule(config: AppConfig): DynamicModule {
  const limit = config.rateLimitPerMinute;
  return ThrottlerModule.forRoot({
    throttlers: [{ ttl: WINDOW_MS, limit, blockDuration: 0 }], // 0: no penalty past the window
    skipIf: limit === 0 ? () => true : undefined,
    errorMessage: (_: ExecutionContext, detail: ThrottlerLimitDetail) =>
      `Rate limit exceeded: ${detail.limit} requests per minute; retry in ${detail.timeToBlockExpire} s`,
  });
}
