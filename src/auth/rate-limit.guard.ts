import { DynamicModule, ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';
import type { Principal } from './principal';

const WINDOW_MS = 60_000;
interface LimitedRequest {
  user?: Principal;
}

/**
 * Requests per minute per credential, in a sliding window kept in this replica's memory.
 *
 * Named by each route's access decorator rather than global: right after the authenticating
 * guard (Nest runs a route's guards in order, so it sees the principal that guard resolved:
 * limited by principal), and alone on routes without a principal (the public catalogs, and the
 * platform routes, whose one static key is better guarded before it is checked: limited by
 * client IP). The probes and the metrics scrape pass no guard at all. Requests refused with 401
 * are not counted here (there is no credential to charge); wrong keys have a budget per client
 * network (auth-failures.ts).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
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
