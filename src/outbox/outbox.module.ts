import { Module } from '@nestjs/common';
import { OutboxRelay } from './outbox-relay';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';

@Module({
  providers: [OutboxRepository, OutboxService, OutboxRelay],
  exports: [OutboxService],
})
export class OutboxModule {}
