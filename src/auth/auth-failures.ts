import { isIPv6 } from 'node:net';
import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { hashKey } from './keys';

const WINDOW_MS = 60_000;
/** Addresses tracked at once; past it, new addresses go uncounted rather than evict a block. */
const MAX_TRACKED = 50_000;
/** A key that authenticated within this time is let through a blocked address. */
const KNOWN_FOR_MS = 10 * 60_000;
const MAX_KNOWN = 10_000;

/**
 * Who pays for a failure: an IPv4 address, or an IPv6 /64, since one host usually holds a whole
 * /64 and could otherwise take a fresh budget per address.
 */
export function clientNetwork(ip: string): string {
  const address = ip.replace(/%.*$/, ''); // a zone id names an interface, not a host
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  const [head, tail] = address.split('::');
  const before = head ? head.split(':') : [];
  const after = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - before.length - after.length).fill('0');
  const groups = [...before, ...zeros, ...after].slice(0, 4);
  return `${groups.map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Failed attempts per address in fixed windows that open at an address's first attempt. Every
 * window lasts as long, so the map's insertion order is also the order windows end in: the
 * ended ones are at its front.
 */
export class FailureWindows {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

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
   * budget while their lookups are under way. Returns 0 when the attempt may go ahead, else the
   * milliseconds until it may.
   */
  take(address: string, now: number): number {
    const window = this.windows.get(address);
    if (window && window.endsAt > now) {
      if (window.failures >= this.limit) return window.endsAt - now;
      window.failures += 1;
      return 0;
    }
    this.windows.delete(address); // an ended window goes; a new one joins at the back
    for (const [ended, { endsAt }] of this.windows) {
      if (endsAt > now) break;
      this.windows.delete(ended);
    }
    if (this.windows.size < this.maxTracked) {
      this.windows.set(address, { failures: 1, endsAt: now + this.windowMs });
    }
    return 0;
  }

  /** Gives back an attempt that turned out not to be a failure. */
  refund(address: string, now: number): void {
    const window = this.windows.get(address);
    if (window && window.endsAt > now && window.failures > 0) window.failures -= 1;
  }
}

/** Digests of keys that authenticated lately, oldest first. */
class RecentKeys {
  private readonly seen = new Map<string, number>();

  has(digest: string, now: number): boolean {
    const at = this.seen.get(digest);
    return at !== undefined && now - at < KNOWN_FOR_MS;
  }

  add(digest: string, now: number): void {
    this.seen.delete(digest);
    this.seen.set(digest, now);
    if (this.seen.size > MAX_KNOWN) this.seen.delete(this.seen.keys().next().value as string);
  }

  delete(digest: string): void {
    this.seen.delete(digest);
  }
}

/**
 * Failed key lookups per client network, per replica. Keys cannot be guessed, but each wrong one
 * costs a database lookup, so a stream of them is a flood to stop. Past
 * `AUTH_FAILURES_PER_MINUTE`, keys from that address are answered 429 until its minute ends,
 * except keys that authenticated in the last ten minutes: a runtime or an office behind one
 * address keeps working while one of its clients retries a revoked key. JWTs are not counted:
 * a bad token costs no lookup.
 */
@Injectable()
export class AuthFailureBudget {
  private readonly windows: FailureWindows | null;
  private readonly known = new RecentKeys();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const limit = config.authFailuresPerMinute;
    this.windows = limit > 0 ? new FailureWindows(limit, WINDOW_MS, MAX_TRACKED) : null;
  }

  /** Runs `lookup` for `key` unless the caller's network is out of budget; counts its 401s. */
  async lookup<T>(context: ExecutionContext, key: string, lookup: () => Promise<T>): Promise<T> {
    const windows = this.windows;
    if (!windows) return lookup();
    const http = context.switchToHttp();
    const network = clientNetwork(http.getRequest<FastifyRequest>().ip);
    const digest = hashKey(key).toString('base64');
    const known = this.known.has(digest, Date.now());
    const wait = known ? 0 : windows.take(network, Date.now());
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      void http.getResponse<FastifyReply>().header('Retry-After', String(seconds));
      throw new ThrottlerException(
        `Too many failed authentications from this address; retry in ${seconds} s`,
      );
    }
    try {
      const result = await lookup();
      if (!known) windows.refund(network, Date.now());
      this.known.add(digest, Date.now());
      return result;
    } catch (error) {
      const failed = error instanceof DomainError && error.kind === 'unauthorized';
      if (failed && known) {
        this.known.delete(digest); // revoked since: from now on it pays like any other key
        windows.take(network, Date.now());
      }
      if (!failed && !known) windows.refund(network, Date.now()); // a 503 is not the caller's
      throw error;
    }
  }
}
