import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DashboardAuth } from '../../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../../auth/principal';
import { UuidParam } from '../../common/params';
import { FiringList, FiringsQuery } from './firings.dto';
import { RulesService } from '../rules.service';

const EXAMPLE = {
  firings: [
    {
      id: '0193a5c2-7e10-7c3a-9f1e-2b7d4c9a1e55',
      event_id: '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b',
      event_type: 'skill.invoked',
      rule_id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a',
      customer_id: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
      outcome: 'fired',
      decision: 'require_approval',
      actions: [
        { type: 'require_approval', approval_id: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b' },
        { type: 'notify' },
      ],
      at: '2024-11-24T09:30:12.345Z',
    },
    {
      id: '0193a5c1-02aa-7b41-8d5e-6f7a8b9c0d1e',
      event_id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      event_type: 'skill.invoked',
      rule_id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a',
      customer_id: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
      outcome: 'suppressed_cooldown',
      decision: null,
      actions: [],
      at: '2024-11-24T09:28:35.018Z',
    },
  ],
  count: 2,
};

/** The firing log of one rule. Its own tag: the rules' eight routes are a documented set. */
@ApiTags('Rule firings')
@Controller('v1/rules/:rule_id/firings')
export class FiringsController {
  constructor(private readonly rules: RulesService) {}

  @Get()
  @DashboardAuth('admin')
  @ApiOperation({
    summary: 'List Rule Firings',
    description:
      "The rule's firing log, newest first: each event that fired the rule, or met its conditions and was held back (cooldown, override by a customer rule, loop guard, effects limit), with the decision its actions made and what they created. Rules skipped for their conditions are shown per event, with the first condition they failed, in GET /v1/events/{event_id}. Requires admin role; a customer admin reads only the rules it can see, and of a tenant default only its own customer's firings. Paging: pass the `id` of a page's last firing as `after` to get the next, older page; a page shorter than `limit` is the last. Firings are kept as long as events are (EVENT_RETENTION_DAYS), and go with their rule when it is deleted.",
  })
  @ApiResponse({ status: 200, type: FiringList, example: EXAMPLE })
  async list(
    @CurrentPrincipal() p: Principal,
    @UuidParam('rule_id') id: string,
    @Query() query: FiringsQuery,
  ): Promise<InstanceType<typeof FiringList>> {
    return FiringList.of(await this.rules.firings(p, id, query));
  }
}
