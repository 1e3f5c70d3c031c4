import { Injectable } from '@nestjs/common';
import { toWire } from '../common/wire';
import { OutboxKind, OutboxStatus } from './outbox-message.entity';
import { OutboxRepository } from './outbox.repository';

/** What other domains may do with the outbox: queue a message, and ask how a replay is doing. */
@Injectable()
export class OutboxService {
  constructor(private readonly repo: OutboxRepository) {}

  /**
   * Queues a message in the caller's transaction, so it exists exactly when the change does.
   * `message` is a wire object: its receiver reads it as a client reads a response.
   */
  enqueue(
    tenantId: string,
    kind: OutboxKind,
    message: object,
    approvalId: string | null = null,
  ): Promise<string> {
    return this.repo.add(tenantId, kind, toWire(message) as Record<string, unknown>, approvalId);
  }

  /** How far the replays of these approvals have got, by approval id (approved ones only). */
  replayStates(
    tenantId: string,
    approvalIds: readonly string[],
  ): Promise<Map<string, { status: OutboxStatus; attempts: number }>> {
    return this.repo.replayStates(tenantId, approvalIds);
  }

  /** Messages still to deliver, across tenants: the backlog an operator watches. */
  backlog(): Promise<number> {
    return this.repo.backlog();
  }
}
