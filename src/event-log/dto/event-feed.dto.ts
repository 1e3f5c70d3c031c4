import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { WireField } from '../../common/wire';
import { LoggedEvent } from '../logged-event.entity';

export const FEED = {
  defaultLimit: 100,
  maxLimit: 500,
  maxWaitSeconds: 30,
  /** Positions stay below 2^53 by far; this bounds what a cursor may say. */
  maxAfter: Number.MAX_SAFE_INTEGER,
} as const;

/** `*`, or a comma list of event types (letters, digits, `.`, `_`, `-`; at most 50 of them). */
const TYPES = /^(\*|[A-Za-z0-9._-]{1,100}(,[A-Za-z0-9._-]{1,100}){0,49})$/;

export class EventFeedQuery {
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 0,
    description: 'A `sequence`: events strictly after it. Absent: from the oldest retained.',
  })
  @IsInt()
  @Min(0)
  @Max(FEED.maxAfter)
  after?: number;
  @WireField({
    optional: true,
    default: '*',
    maxLength: 5100,
    description: 'Comma-separated event types, or `*` for all',
    example: 'workflow.due,approval.resolved',
  })
  @IsString()
  @MaxLength(5100)
  @Matches(TYPES, { message: 'types must be * or a comma list of at most 50 event types' })
  types?: string;
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 1,
    maximum: FEED.maxLimit,
    default: FEED.defaultLimit,
  })
  @IsInt()
  @Min(1)
  @Max(FEED.maxLimit)
  limit?: number;
  @WireField({
    optional: true,
    query: 'int',
    type: 'integer',
    minimum: 0,
    maximum: FEED.maxWaitSeconds,
    default: 0,
    description: 'Seconds to hold the request while nothing newer exists (long poll)',
  })
  @IsInt()
  @Min(0)
  @Max(FEED.maxWaitSeconds)
  wait?: number;
}

export class EventPage {
  @WireField({ type: [LoggedEvent] }) events!: LoggedEvent[];
  @WireField({
    type: 'integer',
    minimum: 0,
    description: 'The cursor for the next request: the last event returned, else `after`',
  })
  nextAfter!: number;
  @WireField({ description: 'More events follow right away' }) hasMore!: boolean;
}
