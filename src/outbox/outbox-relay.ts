import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TenantDb } from '../database/tenant-db';
import { TenantJob } from '../database/tenant-job';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxRepository } from './outbox.repository';

const BATCH = 50;
const TIMEOUT_MS = 10_000;

/** The signature a receiver recomputes: HMAC-SHA256 of `timestamp.body`, hex. */
export function signature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Delivers outbox messages to REPLAY_WEBHOOK_URL: signed, with a timestamp and an
 * Idempotency-Key (the message id, the same on every retry). Failures are retried with
 * exponential backoff and jitter; after the last attempt the message is marked dead.
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
    const { leaseMs } = this.config.outbox;
    const claimed = await this.db.run(tenantId, () => this.repo.claimDue(tenantId, BATCH, leaseMs));
    for (const message of claimed) {
      const failure = await this.deliver(message);
      await this.db.run(tenantId, () =>
        failure === null
          ? this.repo.markDelivered(tenantId, message.id)
          : this.repo.markFailed(tenantId, message.id, failure, this.retryDelay(message.attempts)),
      );
    }
    return claimed.length;
  }

  /** null when delivered, else why not. */
  private async deliver(message: OutboxMessage): Promise<string | null> {
    const { replayWebhookUrl: url, replayWebhookSecret: secret } = this.config;
    if (!url || !secret) return 'REPLAY_WEBHOOK_URL is not configured';
    const body = JSON.stringify(message.payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(url, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'idempotency-key': message.id,
          'x-hydracore-timestamp': timestamp,
          'x-hydracore-signature': signature(secret, timestamp, body),
        },
      });
      await res.body?.cancel();
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Exponential backoff with ±50% jitter; null once the attempts are used up. */
  private retryDelay(attempts: number): number | null {
    const { maxAttempts, backoffMs } = this.config.outbox;
    if (attempts >= maxAttempts) return null;
    return Math.round(backoffMs * 2 ** (attempts - 1) * (0.5 + Math.random()));
  }
}
