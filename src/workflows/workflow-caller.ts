import { Principal } from '../auth/principal';

/**
 * Who is calling: the agent runtime (its instance, which bounds what it sees) or the dashboard
 * (the whole tenant, customer-scoped principals confined to their customer).
 */
export interface WorkflowCaller {
  principal: Principal;
  instanceId?: string;
}

/** Who a history entry names, when the caller does not name itself. */
export const actorOf = ({ principal, instanceId }: WorkflowCaller) =>
  instanceId ? `instance:${instanceId}` : `${principal.kind}:${principal.subject}`;

/** undefined = not sent (keep), null = clear, else the instant. */
export const date = (value: string | null | undefined): Date | null | undefined =>
  value === undefined ? undefined : value === null ? null : new Date(value);
