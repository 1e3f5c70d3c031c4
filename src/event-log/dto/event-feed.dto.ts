import { applyDecorators } from '@nestjs/common';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageLimit } from '../../common/list';
import { WireField } from '../../common/wire';
import { LoggedEvent } from '../logged-event.entity';

export const FEED = {
  defaultLimit: 100,
  maxLimit: 500,
  maxWaitSeconds: 30,
  /** Positions stay below 2^53 by far; this bounds what a cursor may say. */
  maxAfter: Number.MAX_SAFE_INTEGER,
} as const;

/** One event type: letters, digits, `.`, `_`, `-`. */
const TYPE = '[A-Za-z0-9._-]{1,100}';
export const EVENT_TYPE = new RegExp(`^${TYPE}$`);
/** `*`, or a comma list of event types (at most 50 of them). */
const TYPES = new RegExp(`^(\\*|${TYPE}(,${TYPE}){0,49})$`);

/*
 * The pieces every read of the log shares (the feed, the dashboard), declared once so both
 * routes read, document and bound them alike. Listed in the order property decorators written
 * above a field would run (bottom up), so a field's checks are registered as they always were.
 */

/** The cursor: events strictly after it. */
export const Cursor = () =>
  applyDecorators(
    Max(FEED.maxAfter),
    Min(0),
    IsInt(),
    WireField({
      optional: true,
      query: 'int',
      type: 'integer',
      minimum: 0,
      maximum: FEED.maxAfter,
      description:
        'A `sequence`: events strictly after it. Absent: from the oldest retained. One past the ' +
        "feed's last sequence is refused.",
    }),
  );

export class EventFeedQuery {
  @Cursor() after?: number;
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
  @PageLimit(FEED) limit?: number;
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
