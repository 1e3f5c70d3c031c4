import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { isConnectionError } from '../common/connection-errors';
import { DomainError, unauthorized } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { INVALID_KEY } from './credential.store';
import { KeyKind, hashKey, keyTenant } from './keys';

const WINDOW_MS = 60_000;
/** Networks tracked at once; past it, new networks go uncounted rather than evict a block. */
const MAX_TRACKED = 50_000;
/** How long a key's last outcome is remembered, and for how many keys. */
const REMEMBERED_MS = 10 * 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * Who pays for a failure: an IPv4 address (IPv4-mapped IPv6 included), or an IPv6 /64, since one
 * host usually holds a whole /64 and could otherwise take a fresh budget per address. A port or
 * brackets that a proxy wrote into X-Forwarded-For are dropped. Null when there is no address to
 * charge (a socket already gone, a proxy writing something else): then nothing is counted, as
 * one shared bucket would let anyone's wrong keys block everyone's.
 */
export function clientNetwork(ip: string | undefined): string | null {
  const bare = ip?.replace(/^\[([^\]]+)\](?::\d+)?$/, '$1').replace(/^([\d.]+):\d+$/, '$1');
  if (!bare || !ipaddr.isValid(bare)) return null;
  const address = ipaddr.process(bare);
  if (address.kind() === 'ipv4') return address.toString();
  return `${address.toNormalizedString().split(':').slice(0, 4).join(':')}::/64`;
}

interface Window {
  failures: number;
  endsAt: number;
}

/**
 * Failed attempts per network in fixed windows that open at a network's first attempt. Every
 * window lasts as long, so the map's insertion order is also the order windows end in: the
 * ended ones are at its front.
 */
export class FailureWindows {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxTracked: number,
  ) {}

  get tracked(): number {
    return this.windows.size;
  }

  /**
   * Counts an attempt before it is made, so that a burst of parallel attempts cannot overrun the
   * budget while their lookups are under way. Returns the milliseconds to wait when the budget
   * is spent; otherwise the window charged (null when untracked), to hand back to `refund`.
   */
  take(network: string, now: number): { waitMs: number; charged: Window | null } {
    const window = this.windows.get(network);
    if (window && window.endsAt > now) {
      if (window.failures >= this.limit) return { waitMs: window.endsAt - now, charged: null };
      window.failures += 1;
      return { waitMs: 0, charged: window };
    }
    this.windows.delete(network); // an ended window goes; a new one joins at the back
    for (const [ended, { endsAt }] of this.windows) {
      if (endsAt > now) break;
      this.windows.delete(ended);
    }
    if (this.windows.size >= this.maxTracked) return { waitMs: 0, charged: null };
    const opened = { failures: 1, endsAt: now + this.windowMs };
    this.windows.set(network, opened);
    return { waitMs: 0, charged: opened };
  }

  /** Gives back an attempt that was not a failure, to the window it was charged to only. */
  refund(charged: Window | null): void {
    if (charged && charged.failures > 0) charged.failures -= 1;
  }
}

/** Digests of keys whose last lookup had a given outcome, oldest first. */
class RecentKeys {
  private readonly seen = new Map<string, number>();

  has(digest: string, now: number): boolean {
    const at = this.seen.get(digest);
    return at !== undefined && now - at < REMEMBERED_MS;
  }

  add(digest: string, now: number): void {
    this.seen.delete(digest);
    this.seen.set(digest, now);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
  }

  delete(digest: string): void {
    this.seen.delete(digest);
  }
}

/**
 * Wrong key lookups per client network, per replica. Keys cannot be guessed, but each wrong one
 * costs a database lookup, so a stream of them is a flood to stop. Past
 * `AUTH_FAILURES_PER_MINUTE`, keys from that network are answered 429 until its minute ends,
 * without a lookup. Two memories keep the callers behind a shared address working meanwhile:
 * a key that authenticated in the last ten minutes passes a block, and a key refused in the
 * last ten minutes is refused again at once, uncharged (no key is ever issued after a refusal,
 * nor un-revoked), so a client retrying a revoked key costs its network one attempt, not the
 * budget. Keys brought back by hand (a restored backup) are refused for up to ten minutes
 * unless the replicas restart. What costs no lookup is not counted: JWTs, and keys of the
 * wrong shape. Someone holding an IPv6 /48 has enough /64s to fill the tracked networks, after
 * which new networks go uncounted: the budget slows a flood, it cannot stop every one.
 */
@Injectable()
export class AuthFailureBudget {
  private readonly windows: FailureWindows | null;
  private readonly good = new RecentKeys();
  private readonly refused = new RecentKeys();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const limit = config.authFailuresPerMinute;
    this.windows = limit > 0 ? new FailureWindows(limit, WINDOW_MS, MAX_TRACKED) : null;
  }

  /** Runs `lookup` for a `kind` key unless its network is out of budget; counts its 401s. */
  async lookup<T>(
    context: ExecutionContext,
    kind: KeyKind,
    key: string,
    lookup: () => Promise<T>,
  ): Promise<T> {
    const windows = this.windows;
    if (!windows || !keyTenant(kind, key)) return lookup(); // the lookup refuses a bad shape
    const now = Date.now();
    const digest = hashKey(key).toString('base64');
    if (this.refused.has(digest, now)) throw unauthorized(INVALID_KEY[kind]);
    const http = context.switchToHttp();
    const network = clientNetwork(http.getRequest<FastifyRequest>().ip);
    const known = this.good.has(digest, now);
    const { waitMs, charged } =
      known || network === null ? { waitMs: 0, charged: null } : windows.take(network, now);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      void http.getResponse<FastifyReply>().header('Retry-After', String(seconds));
      throw new ThrottlerException(
        `Too many failed authentications from this address; retry in ${seconds} s`,
      );
    }
    try {
      const result = await lookup();
      windows.refund(charged);
      this.good.add(digest, Date.now());
      return result;
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'unauthorized') {
        this.refused.add(digest, Date.now());
        if (known) {
          this.good.delete(digest); // revoked since it last passed: it pays once, like any key
          if (network !== null) windows.take(network, Date.now());
        }
      } else if (
        isConnectionError(error) ||
        (error instanceof DomainError &&
          (error.kind === 'unavailable' ||
            error.kind === 'overloaded' ||
            error.kind === 'forbidden'))
      ) {
        // The database's or the tenant's load, or a right key of a suspended tenant: not a guess.
        windows.refund(charged);
      }
      throw error;
    }
  }
}
