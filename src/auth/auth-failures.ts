import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';

const WINDOW_MS = 60_000;
/** Addresses tracked at once, so that a flood from many addresses cannot grow the map. */
const MAX_TRACKED = 10_000;

/**
 * Failed attempts per address in fixed windows that open at an address's first failure. Every
 * window lasts as long, so the map's insertion order is also the order windows end in: the ones
 * that ended, and then the oldest, are at its front.
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

  /** Milliseconds until `address` may try again; 0 when it may now. */
  blockedFor(address: string, now: number): number {
    const window = this.windows.get(address);
    if (!window || window.endsAt <= now) return 0;
    return window.failures >= this.limit ? window.endsAt - now : 0;
  }

  record(address: string, now: number): void {
    const window = this.windows.get(address);
    if (window && window.endsAt > now) {
      window.failures += 1;
      return;
    }
    this.windows.delete(address); // an ended window goes; the new one joins at the back
    for (const [oldest, { endsAt }] of this.windows) {
      if (endsAt > now && this.windows.size < this.maxTracked) break;
      this.windows.delete(oldest);
    }
    this.windows.set(address, { failures: 1, endsAt: now + this.windowMs });
  }
}

/**
 * Failed authentications per client IP, per replica. Past `AUTH_FAILURES_PER_MINUTE`, an address
 * is answered 429 before its credential is looked at, until its minute ends. Keys cannot be
 * guessed, but each wrong one still costs a database lookup: a stream of them is a flood to
 * stop, not a user to serve. Requests that authenticate are never counted here.
 */
@Injectable()
export class AuthFailureBudget {
  private readonly windows: FailureWindows | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const limit = config.authFailuresPerMinute;
    this.windows = limit > 0 ? new FailureWindows(limit, WINDOW_MS, MAX_TRACKED) : null;
  }

  /** Runs `authenticate` unless the caller's address is out of budget; counts its 401s. */
  async attempt<T>(context: ExecutionContext, authenticate: () => Promise<T>): Promise<T> {
    const windows = this.windows;
    if (!windows) return authenticate();
    const http = context.switchToHttp();
    const address = http.getRequest<FastifyRequest>().ip;
    const wait = windows.blockedFor(address, Date.now());
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      void http.getResponse<FastifyReply>().header('Retry-After', String(seconds));
      throw new ThrottlerException(
        `Too many failed authentications from this address; retry in ${seconds} s`,
      );
    }
    try {
      return await authenticate();
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'unauthorized') {
        windows.record(address, Date.now());
      }
      throw error;
    }
  }
}
