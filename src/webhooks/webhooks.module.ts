import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { SecretBox } from '../common/secret-box';
import { DirectoryModule } from '../directory/directory.module';
import { EventLogModule } from '../event-log/event-log.module';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookFanout } from './webhook-fanout';

/**
 * Webhook endpoints: tenant admins' URLs, the fan-out of the tenant's events into deliveries,
 * and their dispatch, signed per Standard Webhooks.
 */
@Module({
  imports: [AuditModule, DirectoryModule, EventLogModule],
  controllers: [WebhookEndpointsController],
  providers: [
    WebhookEndpointsService,
    WebhookEndpointsRepository,
    WebhookDeliveriesRepository,
    WebhookFanout,
    WebhookDispatcher,
    SecretBox,
  ],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
