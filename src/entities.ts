import {
  ApiKey,
  Customer,
  Instance,
  Person,
  ProxyKey,
  Tenant,
} from './directory/directory.entities';
import { WorkerBinding } from './worker-bindings/worker-binding.entity';
import { ChannelEndpoint } from './channels/channel-endpoint.entity';
import { Workflow } from './workflows/workflow.entity';
import { Rule } from './rules/rule.entity';
import { Approval } from './approvals/approval.entity';
import { OutboxMessage } from './outbox/outbox-message.entity';
import { LoggedEvent } from './event-log/logged-event.entity';
import { WebhookDelivery } from './webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from './webhooks/webhook-endpoint.entity';
import { AuditEntry } from './audit/audit-entry.entity';

/**
 * Every entity, listed rather than globbed so ts-jest, ts-node and dist all load the same set.
 * Assembled here, above the domains, and handed to the database layer (DatabaseModule.forRoot,
 * the migration CLI's data source): the database layer, which every domain uses, imports none
 * of them.
 */
export const ENTITIES = [
  Tenant,
  Customer,
  Person,
  Instance,
  ProxyKey,
  ApiKey,
  WorkerBinding,
  ChannelEndpoint,
  Workflow,
  Rule,
  Approval,
  OutboxMessage,
  LoggedEvent,
  WebhookEndpoint,
  WebhookDelivery,
  AuditEntry,
];
