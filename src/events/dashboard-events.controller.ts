import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { DashboardEventQuery } from '../event-log/dto/dashboard-events.dto';
import { EventPage } from '../event-log/dto/event-feed.dto';
import { EventLogService } from '../event-log/event-log.service';
import { RulesService } from '../rules/rules.service';
import { EventDetail } from './dto/event-detail.dto';

const AUTH =
  'Auth: JWT or API key, role admin. RLS scopes to tenant; a customer admin is confined to its ' +
  'own customer.';

const EVENT = {
  id: '0b9f5c1e-3d6a-4c55-9a51-2f7f4f1b8e21',
  type: 'workflow.stage_changed',
  sequence: 42,
  occurred_at: '2030-01-01T09:30:00.000Z',
  tenant_id: '6a1d2c3b-0e4f-4a5b-8c7d-9e0f1a2b3c4d',
  instance_id: '2c4e6a8b-1d3f-4a5b-9c7d-0e2f4a6b8c0d',
  customer_id: '7d9b1f3a-5c2e-4d6f-8a0b-1c3e5a7b9d2f',
  caused_by: null,
  data: {
    workflow: { id: '5e8a0c2d-4b6f-4e1a-9c3d-7f2b1a0e9d8c', stage: 'contacted' },
    from_stage: 'new',
    to_stage: 'contacted',
  },
};

const SKIPPED = {
  id: null,
  event_id: EVENT.id,
  event_type: EVENT.type,
  rule_id: '3f1e5d7c-9b2a-4c6e-8d0f-1a3b5c7d9e2f',
  customer_id: EVENT.customer_id,
  outcome: 'skipped',
  decision: null,
  actions: [],
  at: EVENT.occurred_at,
  failed_condition: {
    field: 'to_stage',
    operator: 'eq',
    expected: 'won',
    actual: 'contacted',
    actual_truncated: false,
  },
};

/**
 * The dashboard's view of the event log. Here rather than beside the log: an event's detail
 * shows what its rules made of it, which the rules' firing log knows.
 */
@ApiTags('Events')
@Controller('v1/events')
@DashboardAuth('admin')
export class DashboardEventsController {
  constructor(
    private readonly events: EventLogService,
    private readonly rules: RulesService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List Events',
    description:
      "The tenant's event log for the dashboard, oldest first, strictly after the cursor " +
      '`after` (absent: from the oldest retained), filtered by type, customer and instance. ' +
      'Paging by `next_after` never skips or repeats an event. A cursor older than the oldest ' +
      `retained event is answered 410. ${AUTH}`,
  })
  @ApiResponse({
    status: 200,
    type: EventPage,
    example: { events: [EVENT], next_after: 42, has_more: false },
  })
  @ApiResponse({ status: 410, description: 'The cursor is past retention' })
  list(@CurrentPrincipal() p: Principal, @Query() q: DashboardEventQuery): Promise<EventPage> {
    return this.events.list(p, q);
  }

  @Get(':event_id')
  @ApiOperation({
    summary: 'Get Event',
    description:
      'One event of the log, with the rules evaluated for it. An event is shown once it has ' +
      `its \`sequence\`, moments after the change that raised it commits. ${AUTH}`,
  })
  @ApiResponse({
    status: 200,
    type: EventDetail,
    example: { ...EVENT, rule_evaluations: [SKIPPED] },
  })
  @ApiResponse({ status: 404, description: 'No such event in this tenant (yet)' })
  async get(
    @CurrentPrincipal() p: Principal,
    @UuidParam('event_id') id: string,
  ): Promise<EventDetail> {
    const event = await this.events.get(p, id);
    const ruleEvaluations = await this.rules.evaluationsOf(p.tenantId, event.id);
    return Object.assign(new EventDetail(), event, { ruleEvaluations });
  }
}
