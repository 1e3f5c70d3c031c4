import { WireField } from '../common/wire';
import { Approval } from './approval.entity';

/** The event log's types for approvals, and their data: the approval as the routes show it. */
export const APPROVAL_EVENTS = {
  requested: 'approval.requested',
  resolved: 'approval.resolved',
} as const;

export const APPROVAL_DECISIONS = ['approved', 'rejected', 'expired'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

export class ApprovalRequestedData {
  @WireField({ type: Approval }) approval!: Approval;
}

export class ApprovalResolvedData {
  @WireField({ type: Approval }) approval!: Approval;
  @WireField({ enum: APPROVAL_DECISIONS }) decision!: ApprovalDecision;
}
