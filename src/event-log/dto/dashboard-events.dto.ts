import { IsString, IsUUID, Matches } from 'class-validator';
import { WireField } from '../../common/wire';
import { PageLimit } from '../../common/list';
import { Cursor, EVENT_TYPE, FEED } from './event-feed.dto';

/** UUIDs compare as text against the caller's own customer: one spelling for both. */
const lower = (value: unknown): unknown =>
  typeof value === 'string' ? value.toLowerCase() : value;

export class DashboardEventQuery {
  @WireField({ optional: true, minLength: 1, maxLength: 100, example: 'workflow.stage_changed' })
  @IsString()
  @Matches(EVENT_TYPE, { message: 'type must be one event type (letters, digits, . _ -)' })
  type?: string;
  @WireField({
    optional: true,
    format: 'uuid',
    normalize: lower,
    description: "Only this customer's events. A customer admin sees only its own customer's.",
  })
  @IsUUID()
  customerId?: string;
  @WireField({
    optional: true,
    format: 'uuid',
    normalize: lower,
    description: "Only this instance's events (not the tenant's events of no instance)",
  })
  @IsUUID()
  instanceId?: string;
  @Cursor() after?: number;
  @PageLimit(FEED) limit?: number;
}
