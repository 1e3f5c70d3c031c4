import { Directory1732406400000 } from './1732406400000-directory';
import { WorkerBindings1732406500000 } from './1732406500000-worker-bindings';
import { ChannelEndpoints1732406600000 } from './1732406600000-channel-endpoints';
import { Workflows1732406700000 } from './1732406700000-workflows';
import { Rules1732406800000 } from './1732406800000-rules';
import { ApprovalsOutbox1732406900000 } from './1732406900000-approvals-outbox';
import { RuleFiring1732407000000 } from './1732407000000-rule-firing';
import { WorkflowCounts1732407100000 } from './1732407100000-workflow-counts';
import { WorkflowSizes1732407400000 } from './1732407400000-workflow-sizes';
import { IdempotencyPerInstance1732407480000 } from './1732407480000-idempotency-per-instance';
import { EventLog1732407500000 } from './1732407500000-event-log';
import { WorkflowTimers1732407600000 } from './1732407600000-workflow-timers';
import { ApprovalExpiryTimer1732407700000 } from './1732407700000-approval-expiry-timer';
import { EventFilters1732407800000 } from './1732407800000-event-filters';
import { RuleEvaluations1732407900000 } from './1732407900000-rule-evaluations';
import { EventEvaluation1732408000000 } from './1732408000000-event-evaluation';
import { Webhooks1732408100000 } from './1732408100000-webhooks';
import { RuleOverrideGuard1732408200000 } from './1732408200000-rule-override-guard';
import { IdempotencyKeys1732408300000 } from './1732408300000-idempotency-keys';
import { TenantLifecycle1732408400000 } from './1732408400000-tenant-lifecycle';
import { AuditLog1732408500000 } from './1732408500000-audit-log';
import { EventsWakeAfterCommit1732408600000 } from './1732408600000-events-wake-after-commit';
import { OutboxBacklogMetric1732408700000 } from './1732408700000-outbox-backlog-metric';
import { LighterEventWrites1732408800000 } from './1732408800000-lighter-event-writes';
import { WebhookTypesAllAlone1732408900000 } from './1732408900000-webhook-types-all-alone';
import { EventSizes1732409000000 } from './1732409000000-event-sizes';
import { EventReceiptsAsSent1732409100000 } from './1732409100000-event-receipts-as-sent';
import { WebhookBacklogIndexes1732409200000 } from './1732409200000-webhook-backlog-indexes';
import { ApprovalExpiryByTime1732409500000 } from './1732409500000-approval-expiry-by-time';
import { WorkflowFilterIndexes1732409600000 } from './1732409600000-workflow-filter-indexes';
import { WorkflowDueListIndex1732409700000 } from './1732409700000-workflow-due-list-index';
import { FiringLogWithoutRuleKey1732409800000 } from './1732409800000-firing-log-without-rule-key';
import { KeyChecks1732409900000 } from './1732409900000-key-checks';

/**
 * Every migration, in the order of their timestamps (the order TypeORM runs them in). Append
 * only: a landed migration is never edited.
 */
export const MIGRATIONS = [
  Directory1732406400000,
  WorkerBindings1732406500000,
  ChannelEndpoints1732406600000,
  Workflows1732406700000,
  Rules1732406800000,
  ApprovalsOutbox1732406900000,
  RuleFiring1732407000000,
  WorkflowCounts1732407100000,
  WorkflowSizes1732407400000,
  IdempotencyPerInstance1732407480000,
  EventLog1732407500000,
  WorkflowTimers1732407600000,
  ApprovalExpiryTimer1732407700000,
  EventFilters1732407800000,
  RuleEvaluations1732407900000,
  EventEvaluation1732408000000,
  Webhooks1732408100000,
  RuleOverrideGuard1732408200000,
  IdempotencyKeys1732408300000,
  TenantLifecycle1732408400000,
  AuditLog1732408500000,
  EventsWakeAfterCommit1732408600000,
  OutboxBacklogMetric1732408700000,
  LighterEventWrites1732408800000,
  WebhookTypesAllAlone1732408900000,
  EventSizes1732409000000,
  EventReceiptsAsSent1732409100000,
  WebhookBacklogIndexes1732409200000,
  ApprovalExpiryByTime1732409500000,
  WorkflowFilterIndexes1732409600000,
  WorkflowDueListIndex1732409700000,
  FiringLogWithoutRuleKey1732409800000,
  KeyChecks1732409900000,
];
