import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '../common/secret-box';
import { wireJson } from '../common/wire-json';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantGate } from '../database/tenant-gate';
import { TenantJob } from '../database/tenant-job';
import { EventLogService } from '../event-log/event-log.service';
import { send } from './destination';
import { secretBinding, signedHeaders } from './signing';
import {
  AttemptOutcome,
  ClaimedDelivery,
  WebhookDeliveriesRepository,
} from './webhook-deliveries.repository';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';

/** Attempts one endpoint has under way at once, across replicas: a slow one holds only these. */
export const PER_ENDPOINT_IN_FLIGHT = 8;
/**
 * Attempts of one tenant under way in one process at most: a tenant whose endpoints all hold
 * their attempts to the timeout takes a quarter of the process's slots, never all of them.
 */
const PER_TENANT_IN_FLIGHT = 25;
/** Attempts under way in one process at most (each holds its event's body). */
const PROCESS_IN_FLIGHT = 100;
/**
 * A claim outlasts its attempt, which `send` ends within the timeout, by this much: room for
 * the claim's commit before and the outcome's transaction after.
 */
const LEASE_MARGIN_MS = 10_000;
/** Every attempt failing for this long disables the endpoint. */
const DISABLE_AFTER_MS = 5 * 86_400_000;
/** A retry due sooner than this is woken for in-process; later ones are found by the poll. */
const RETRY_WAKE_MAX_MS = 60_000;
/**
 * Connections one tenant's webhook work (claims, outcomes) holds at once in this process. Its
 * attempts run many at a time, but each outcome locks its endpoint's row: taking a pooled
 * connection first, 25 of them would wait on that lock with every connection of the pool, and
 * every other tenant behind them. They take turns here instead, before taking a connection.
 */
const PER_TENANT_CONNECTIONS = 1;

interface Attempt {
  tenantId: string;
  claim: ClaimedDelivery;
  url: string;
  body: string;
  secrets: string[];
}

/** What an operator watches: counted since the process started, and the backlog on demand. */
export interface WebhookCounters {
  attemptsSucceeded: number;
  attemptsFailed: number;
  deliveriesFailed: number;
  endpointsDisabled: number;
}

/**
 * Sends the queued deliveries: claims due ones per tenant (see WebhookDeliveriesRepository
 * CLAIM), sends each claimed attempt without waiting for the others, and records its outcome.
 *
 * Any number of replicas dispatch: a claim leases its deliveries for the attempt's timeout plus
 * a margin, so no other replica attempts one while it is under way, and one whose replica died
 * is attempted again once its lease passes. An endpoint has at most PER_ENDPOINT_IN_FLIGHT
 * attempts at once, so a slow or dead endpoint ties up only its own slots, never another's.
 * Claims are made when the fan-out queues deliveries, when an attempt ends (the next ones of
 * the tenant are then due), when a retry falls due, and on a poll across tenants.
 */
@Injectable()
export class WebhookDispatcher extends TenantJob {
  readonly counters: WebhookCounters = {
    attemptsSucceeded: 0,
    attemptsFailed: 0,
    deliveriesFailed: 0,
    endpointsDisabled: 0,
  };
  /** Attempts under way in this process. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Per tenant, how many of `inFlight` are its. */
  private readonly tenantFlight = new Map<string, number>();
  /** Claims kicked off and not yet made. */
  private readonly claiming = new Set<Promise<unknown>>();
  private readonly wakes = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Turns at a connection, per tenant (see PER_TENANT_CONNECTIONS). */
  private readonly turns: TenantGate;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    db: TenantDb,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly log: EventLogService,
    private readonly box: SecretBox,
  ) {
    super(db, config.webhooks.pollMs);
    // A turn not come within a lease is given up: the delivery is claimed again after it.
    this.turns = new TenantGate(
      PER_TENANT_CONNECTIONS,
      config.webhooks.timeoutMs + LEASE_MARGIN_MS,
    );
  }

  /** `work` in a tenant transaction of its own, once the tenant's turn at a connection comes. */
  private async inTurn<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    await this.turns.enter(tenantId);
    try {
      return await this.db.run(tenantId, work);
    } finally {
      this.turns.leave(tenantId);
    }
  }

  override async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.wakes) clearTimeout(timer);
    await super.onApplicationShutdown();
    await this.settled();
  }

  protected override tenants(): Promise<string[]> {
    return this.deliveries.tenantsDue();
  }

  protected forTenant(tenantId: string): Promise<number> {
    return this.dispatch(tenantId);
  }

  /** Claims and starts the tenant's due deliveries, soon; failures are logged, not thrown. */
  kick(tenantId: string): void {
    const claiming: Promise<unknown> = this.dispatch(tenantId)
      .catch((error: unknown) => {
        if (this.outage.failed(this.constructor.name, error)) return;
        this.logger.warn({ tenantId, err: error }, 'webhook deliveries left for the next look');
      })
      .finally(() => this.claiming.delete(claiming));
    this.claiming.add(claiming);
  }

  /** Deliveries still to make, across tenants. */
  backlog(): Promise<number> {
    return this.deliveries.backlog();
  }

  /** Claims and attempts under way in this process: tests wait for them. */
  async settled(): Promise<void> {
    while (this.inFlight.size + this.claiming.size > 0) {
      await Promise.all([...this.inFlight, ...this.claiming]);
    }
  }

  /** Claims the tenant's due deliveries and starts their attempts; says how many it started. */
  async dispatch(tenantId: string): Promise<number> {
    const room = () =>
      Math.min(
        PER_TENANT_IN_FLIGHT - (this.tenantFlight.get(tenantId) ?? 0),
        PROCESS_IN_FLIGHT - this.inFlight.size,
      );
    if (this.stopped || room() <= 0) return 0;
    // Kicked by its own attempts' ends, a suspended tenant's chain of claims stops here.
    if ((await this.db.suspensions.get()).has(tenantId)) return 0;
    const { timeoutMs } = this.config.webhooks;
    const attempts = await this.inTurn(tenantId, async () => {
      // Read again in the turn: a claim before it may have filled the room meanwhile.
      if (this.stopped || room() <= 0) return [];
      const claims = await this.deliveries.claim(
        tenantId,
        PER_ENDPOINT_IN_FLIGHT,
        room(),
        timeoutMs + LEASE_MARGIN_MS,
      );
      return claims.length === 0 ? [] : this.prepare(tenantId, claims);
    });
    for (const attempt of attempts) {
      const running: Promise<unknown> = this.attempt(attempt)
        .catch((error: unknown) => {
          if (this.outage.failed(this.constructor.name, error)) return;
          this.logger.warn(
            { tenantId, deliveryId: attempt.claim.id, err: error },
            'a webhook attempt could not be recorded; retried after its lease',
          );
        })
        .finally(() => {
          this.inFlight.delete(running);
          const left = (this.tenantFlight.get(tenantId) ?? 1) - 1;
          if (left > 0) this.tenantFlight.set(tenantId, left);
          else this.tenantFlight.delete(tenantId);
        });
      this.inFlight.add(running);
      this.tenantFlight.set(tenantId, (this.tenantFlight.get(tenantId) ?? 0) + 1);
    }
    return attempts.length;
  }

  /** The body and secrets of each claimed attempt, read in the claim's transaction. */
  private async prepare(tenantId: string, claims: ClaimedDelivery[]): Promise<Attempt[]> {
    // The event's data arrives as text and is spliced in as it is, never parsed (RawJson).
    const events = new Map(
      (await this.log.envelopes(tenantId, [...new Set(claims.map((c) => c.eventId))])).map((e) => [
        e.id,
        wireJson(e),
      ]),
    );
    const endpoints = new Map<string, WebhookEndpoint>();
    for (const id of new Set(claims.map((c) => c.endpointId))) {
      const endpoint = await this.endpoints.get(tenantId, id);
      if (endpoint) endpoints.set(id, endpoint);
    }
    return claims.flatMap((claim) => {
      const endpoint = endpoints.get(claim.endpointId);
      const body = events.get(claim.eventId);
      // Both go with their deliveries (foreign keys), so within the claim's transaction they
      // are there; the guard keeps a broken invariant from sending half an attempt.
      if (!endpoint || body === undefined) return [];
      return [{ tenantId, claim, url: endpoint.url, body, secrets: this.secrets(endpoint) }];
    });
  }

  /** The current secret, and the previous one while its overlap lasts. */
  private secrets(endpoint: WebhookEndpoint): string[] {
    const binding = secretBinding(endpoint.tenantId, endpoint.id);
    const secrets = [this.box.open(endpoint.sealedSecret, binding)];
    if (
      endpoint.previousSealedSecret &&
      endpoint.previousSecretUntil &&
      endpoint.previousSecretUntil.getTime() > Date.now()
    ) {
      secrets.push(this.box.open(endpoint.previousSealedSecret, binding));
    }
    return secrets;
  }

  private async attempt(a: Attempt): Promise<void> {
    const { timeoutMs, allowHttp, allowPrivateNetworks } = this.config.webhooks;
    const result = await send(a.url, a.body, signedHeaders(a.claim.eventId, a.body, a.secrets), {
      timeoutMs,
      policy: { allowHttp, allowPrivateNetworks },
    });
    const succeeded = result.error === null;
    const outcome: AttemptOutcome = {
      succeeded,
      responseStatus: result.status,
      error: result.error,
      retryInMs: succeeded ? null : this.retryDelay(a.claim.attempts),
    };
    await this.inTurn(a.tenantId, async () => {
      await this.endpoints.lockForOutcome(a.tenantId, a.claim.endpointId);
      if (!(await this.deliveries.finish(a.tenantId, a.claim, outcome))) return;
      const disabled = await this.endpoints.noteAttempt(
        a.tenantId,
        a.claim.endpointId,
        succeeded,
        DISABLE_AFTER_MS,
      );
      this.count(outcome, disabled);
    });
    if (outcome.retryInMs !== null) this.wakeIn(a.tenantId, outcome.retryInMs);
    this.kick(a.tenantId);
  }

  /**
   * The schedule's delay after this many attempts, ±20% so retries of many deliveries that
   * failed together spread out; null once the schedule is used up.
   */
  private retryDelay(attempts: number): number | null {
    const schedule = this.config.webhooks.retryScheduleMs;
    if (attempts > schedule.length) return null;
    return Math.round(schedule[attempts - 1] * (0.8 + 0.4 * Math.random()));
  }

  private wakeIn(tenantId: string, ms: number): void {
    if (this.stopped || ms > RETRY_WAKE_MAX_MS) return;
    const timer = setTimeout(() => {
      this.wakes.delete(timer);
      this.kick(tenantId);
    }, ms + 50);
    timer.unref();
    this.wakes.add(timer);
  }

  private count(outcome: AttemptOutcome, disabled: boolean): void {
    if (outcome.succeeded) this.counters.attemptsSucceeded++;
    else this.counters.attemptsFailed++;
    if (!outcome.succeeded && outcome.retryInMs === null) this.counters.deliveriesFailed++;
    if (disabled) this.counters.endpointsDisabled++;
  }
}
