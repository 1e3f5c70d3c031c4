import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, outboxLeaseMargin } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxRepository } from './outbox.repository';

/** A tenant's share of one pass: its backlog beyond this waits for the next, behind the others. */
const PER_PASS = 50;

/** The signature a receiver recomputes: HMAC-SHA256 of `timestamp.body`, hex. */
export function signature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Delivers outbox messages to REPLAY_WEBHOOK_URL: signed, with a timestamp and an
 * Idempotency-Key (the message id, the same on every retry). Failures are retried with
 * exponential backoff and jitter; after the last attempt the message is marked dead.
 *
 * Any number of replicas may relay at once. A claim stands for one attempt and its lease
 * outlives it: a replica claims only what it sends at once, every attempt is cut off before the
 * lease runs out, and an outcome is recorded only under the claim it was attempted with. So no
 * message is sent by two replicas at once, however slow the receiver, and one claimed by a
 * replica that died is sent again once its lease has run out.
 */
@Injectable()
export class OutboxRelay extends TenantJob {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    db: TenantDb,
    private readonly repo: OutboxRepository,
  ) {
    super(db, config.replayWebhookUrl ? config.outbox.pollMs : 0);
  }

  protected async forTenant(tenantId: string): Promise<number> {
    const { concurrency } = this.config.outbox;
    let handled = 0;
    for (let n = concurrency; n === concurrency && handled < PER_PASS; handled += n) {
      n = await this.round(tenantId);
    }
    return handled;
  }

  /**
   * Claims up to `concurrency` messages, sends them all at once and records each outcome as it
   * comes, one transaction at a time. An outcome that could not be recorded is thrown once the
   * round is over; its message is retried after its lease, or at once if the claim can still be
   * released.
   */
  private async round(tenantId: string): Promise<number> {
    const { leaseMs, timeoutMs, concurrency } = this.config.outbox;
    // Taken before the claim's transaction begins, so before its lease does.
    const leaseEnds = performance.now() + leaseMs - outboxLeaseMargin(timeoutMs);
    const claimed = await this.db.run(tenantId, () =>
      this.repo.claimDue(tenantId, concurrency, leaseMs),
    );
    let recording = Promise.resolve();
    const unrecorded: unknown[] = [];
    await Promise.all(
      claimed.map(async (message) => {
        const outcome = await this.deliver(message, leaseEnds);
        recording = recording.then(() =>
          this.record(tenantId, message, outcome).catch(async (error: unknown) => {
            unrecorded.push(error);
            await this.release(tenantId, message);
          }),
        );
      }),
    );
    await recording;
    if (unrecorded.length > 0) throw unrecorded[0];
    return claimed.length;
  }

  private async record(tenantId: string, message: OutboxMessage, failure: string | null) {
    const { id, attempts } = message;
    const current = await this.db.run(tenantId, () =>
      failure === null
        ? this.repo.markDelivered(tenantId, id, attempts)
        : this.repo.markFailed(tenantId, id, attempts, failure, this.retryDelay(attempts)),
    );
    if (!current) {
      this.logger.warn({ tenantId, outboxId: id, attempt: attempts }, 'outcome of a lost claim');
    }
  }

  /**
   * Makes a message whose outcome is unknown to the database due again now rather than a lease
   * later: sent again (same Idempotency-Key) if it had been delivered, retried if not. When the
   * database is gone this fails too, and the lease does the same, later.
   */
  private async release(tenantId: string, { id, attempts }: OutboxMessage): Promise<void> {
    await this.db
      .run(tenantId, () => this.repo.release(tenantId, id, attempts))
      .catch(() => undefined);
  }

  /** null when delivered, else why not; settles before `leaseEnds` (a performance.now() time). */
  private async deliver(message: OutboxMessage, leaseEnds: number): Promise<string | null> {
    const { replayWebhookUrl: url, replayWebhookSecret: secret } = this.config;
    if (!url || !secret) return 'REPLAY_WEBHOOK_URL is not configured';
    const budget = Math.min(this.config.outbox.timeoutMs, leaseEnds - performance.now());
    if (budget <= 0) return 'claimed too late to be sent within its lease';
    const body = JSON.stringify(message.payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const abort = new AbortController();
    const exchange = async (): Promise<string | null> => {
      const res = await fetch(url, {
        method: 'POST',
        body,
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': message.id,
          'x-hydracore-timestamp': timestamp,
          'x-hydracore-signature': signature(secret, timestamp, body),
        },
      });
      await res.body?.cancel();
      return res.ok ? null : `HTTP ${res.status}`;
    };
    // The timer settles the attempt itself, not only its signal: a response whose body never
    // ends, or an abort noticed late, must not outlive the claim.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve(`timed out after ${Math.round(budget)} ms`);
      }, budget);
    });
    try {
      return await Promise.race([exchange().catch(reason), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Exponential backoff with ±50% jitter; null once the attempts are used up. */
  private retryDelay(attempts: number): number | null {
    const { maxAttempts, backoffMs } = this.config.outbox;
    if (attempts >= maxAttempts) return null;
    return Math.round(backoffMs * 2 ** (attempts - 1) * (0.5 + Math.random()));
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
