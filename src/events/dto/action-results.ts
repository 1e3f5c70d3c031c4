import { WireField } from '../../common/wire';

/** What a require_approval action did: the approval it requested. */
export class ApprovalRequested {
  @WireField() readonly type = 'require_approval';
  @WireField({ format: 'uuid' }) approvalId!: string;
  @WireField() approvalRef!: string;
}

/** What a create_workflow action did. */
export class WorkflowCreated {
  @WireField() readonly type = 'create_workflow';
  @WireField({ format: 'uuid' }) workflowId!: string;
}

/** What a notify action did: the outbox message that will carry it. */
export class NotificationQueued {
  @WireField() readonly type = 'notify';
  @WireField({ format: 'uuid' }) outboxId!: string;
}

/** What a block action did: the event's decision is block, for this reason. */
export class Blocked {
  @WireField() readonly type = 'block';
  @WireField() reason!: string;
}

export type ActionResult = ApprovalRequested | WorkflowCreated | NotificationQueued | Blocked;

/** The outbox payload of a notify action: what the receiver needs to tell someone. */
export class NotifyMessage {
  @WireField() to!: string;
  @WireField() message!: string;
  @WireField() event!: string;
  @WireField({ format: 'uuid' }) customerId!: string;
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField({ json: true }) payload!: Record<string, unknown>;
}

/**
 * The event log's record of a notify action (notification.requested): whom to tell what, the
 * rule that said so, and the event that fired it.
 */
export class NotificationRequested {
  @WireField() to!: string;
  @WireField() message!: string;
  @WireField({ format: 'uuid' }) ruleId!: string;
  @WireField({ format: 'uuid' }) eventId!: string;
}
