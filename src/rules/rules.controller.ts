import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Audited, AuditExempt } from '../audit/audit-context';
import { DashboardAuth, PublicRoute } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import {
  REPLAYABLE_SERVICE_VIEWS,
  ReplayableServiceView,
  TRIGGER_TYPE_VIEWS,
  TriggerTypeView,
} from './catalog.views';
import {
  CreateRuleDto,
  ListRulesQuery,
  TestRuleDto,
  TestRuleResult,
  UpdateRuleDto,
} from './dto/rules.dto';
import { Rule } from './rule.entity';
import { RulesService } from './rules.service';

/** Said on both write routes: a guard limits what either may write. */
const GUARD_NOTE =
  'A tenant default with allow_customer_override false is a guard: a customer rule with its rule_key is refused with 409 (nothing written) and, if one exists anyway (written before the flag was set), both rules fire and the default is never suppressed. Only tenant admins send allow_customer_override (a customer admin sending it gets 403); false is 422 on a customer rule. Setting it false while customer rules with the key exist is allowed: they stay and fire beside the default.';

@ApiTags('Rules')
@Controller('v1/rules')
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  @Get()
  @DashboardAuth('any')
  @ApiOperation({
    summary: 'List Rules',
    description:
      'List business rules for the current tenant. Optionally filter by instance_id or active status. Non-admins see rules of their customer and tenant defaults; tenant admins see every rule.',
  })
  @ApiResponse({ status: 200, type: [Rule] })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListRulesQuery): Promise<Rule[]> {
    return this.rules.list(p, query);
  }

  @Audited()
  @Post()
  @DashboardAuth('admin')
  @ApiOperation({
    summary: 'Create Rule',
    description:
      'Create a new business rule. Requires admin role. Validates trigger event, conditions, and actions. Tenant-default rules (customer_id null) are for tenant admins only. ' +
      GUARD_NOTE,
  })
  @ApiResponse({ status: 201, type: Rule })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateRuleDto): Promise<Rule> {
    return this.rules.create(p, dto);
  }

  // The two catalogs are static and public: declared before ':rule_id' so they are not ids.
  @Get('replayable-services')
  @PublicRoute()
  @ApiOperation({
    summary: 'List Replayable Services',
    description:
      'List services registered for approval replay. The frontend uses this to populate the require_approval service picker.',
  })
  @ApiResponse({ status: 200, type: [ReplayableServiceView] })
  replayableServices(): ReplayableServiceView[] {
    return REPLAYABLE_SERVICE_VIEWS;
  }

  @Get('trigger-types')
  @PublicRoute()
  @ApiOperation({
    summary: 'List Trigger Types',
    description: 'List all available trigger event types and their payload schemas.',
  })
  @ApiResponse({ status: 200, type: [TriggerTypeView] })
  triggerTypes(): TriggerTypeView[] {
    return TRIGGER_TYPE_VIEWS;
  }

  @Get(':rule_id')
  @DashboardAuth('any')
  @ApiOperation({
    summary: 'Get Rule',
    description:
      'Get a specific business rule by ID. Non-admins can read tenant defaults; other-customer rules are 403.',
  })
  @ApiResponse({ status: 200, type: Rule })
  get(@CurrentPrincipal() p: Principal, @UuidParam('rule_id') id: string): Promise<Rule> {
    return this.rules.get(p, id);
  }

  @Audited()
  @Patch(':rule_id')
  @DashboardAuth('admin')
  @ApiOperation({
    summary: 'Update Rule',
    description:
      'Update an existing business rule. Requires admin role. Only provided fields are updated. Moving a guard (allow_customer_override false) to a customer needs allow_customer_override true in the same request (else 422); a customer rule newly taking a guarded rule_key is 409. ' +
      GUARD_NOTE,
  })
  @ApiResponse({ status: 200, type: Rule })
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('rule_id') id: string,
    @Body() dto: UpdateRuleDto,
  ): Promise<Rule> {
    return this.rules.update(p, id, dto);
  }

  @Audited()
  @Delete(':rule_id')
  @HttpCode(204)
  @DashboardAuth('admin')
  @ApiOperation({
    summary: 'Delete Rule',
    description: 'Delete a business rule. Requires admin role. Gone forever — no soft delete.',
  })
  async delete(@CurrentPrincipal() p: Principal, @UuidParam('rule_id') id: string): Promise<void> {
    await this.rules.delete(p, id);
  }

  @AuditExempt('A dry run: evaluates the conditions and writes nothing')
  @Post(':rule_id/test')
  @HttpCode(200)
  @DashboardAuth('admin')
  @ApiOperation({
    summary: 'Test Rule',
    description:
      'Dry-run test a rule against a sample payload. Evaluates conditions but does NOT execute actions.',
  })
  @ApiResponse({ status: 200, type: TestRuleResult })
  test(
    @CurrentPrincipal() p: Principal,
    @UuidParam('rule_id') id: string,
    @Body() dto: TestRuleDto,
  ): Promise<TestRuleResult> {
    return this.rules.test(p, id, dto.payload);
  }
}
