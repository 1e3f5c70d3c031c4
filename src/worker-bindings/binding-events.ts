import { WireField } from '../common/wire';
import { WorkerBinding } from './worker-binding.entity';

/** The event log's types for worker bindings; each carries the binding as the routes show it. */
export const BINDING_EVENTS = {
  created: 'binding.created',
  verified: 'binding.verified',
  revoked: 'binding.revoked',
} as const;
export type BindingEventType = (typeof BINDING_EVENTS)[keyof typeof BINDING_EVENTS];

export class BindingEventData {
  @WireField({ type: WorkerBinding }) binding!: WorkerBinding;
}
