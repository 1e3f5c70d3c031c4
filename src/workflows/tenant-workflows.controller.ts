import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit-context';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import {
  ListSuspendedQuery,
  ListWorkflowsQuery,
  ResumeWorkflowDto,
  SuspendWorkflowDto,
  WorkflowActionResult,
  WorkflowPage,
} from './dto/workflows.dto';
import { AuditedWorkflowChanges } from './audited-workflow-changes';
import { Workflow } from './workflow.entity';
import { WorkflowsService } from './workflows.service';

const RLS = 'Auth: JWT (admin only). RLS scopes to tenant.';

@ApiTags('Workflows')
@Controller('v1/workflows')
@DashboardAuth('admin')
export class TenantWorkflowsController {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly changes: AuditedWorkflowChanges,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List Workflows Dashboard',
    description: `List workflow records for tenant dashboard observability. ${RLS}`,
  })
  @ApiResponse({ status: 200, type: WorkflowPage })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListWorkflowsQuery,
  ): Promise<WorkflowPage> {
    return this.workflows.list({ principal }, query);
  }

  // Declared before ':workflow_id' so "suspended" is never read as an id.
  @Get('suspended')
  @ApiOperation({
    summary: 'List Suspended Workflows',
    description: `List the tenant's suspended workflows, newest first, at most limit. ${RLS}`,
  })
  @ApiResponse({ status: 200, type: [Workflow] })
  suspended(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListSuspendedQuery,
  ): Promise<Workflow[]> {
    return this.workflows.listSuspended({ principal }, query);
  }

  @Get(':workflow_id')
  @ApiOperation({
    summary: 'Get Workflow Dashboard',
    description: `Get workflow detail for tenant dashboard observability. ${RLS}`,
  })
  @ApiResponse({ status: 200, type: Workflow })
  get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workflow_id') id: string,
  ): Promise<Workflow> {
    return this.workflows.get({ principal }, id);
  }

  @Audited()
  @Post(':workflow_id/abort')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Abort Workflow',
    description: `Abort a workflow (transition to 'cancelled'). Preserves audit trail rather than deleting. Only allowed for non-terminal statuses. ${RLS}`,
  })
  @ApiResponse({ status: 200, type: WorkflowActionResult })
  abort(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workflow_id') id: string,
  ): Promise<WorkflowActionResult> {
    return this.changes.abort(principal, id);
  }

  @Audited()
  @Post(':workflow_id/resume')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume Workflow',
    description: `Resume a suspended workflow with resume data. Picks up from suspended_step with the provided data merged into workflow_state. ${RLS}`,
  })
  @ApiResponse({ status: 200, type: WorkflowActionResult })
  resume(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workflow_id') id: string,
    @Body() dto: ResumeWorkflowDto,
  ): Promise<WorkflowActionResult> {
    return this.changes.resume(principal, id, dto.resumeData);
  }

  @Audited()
  @Post(':workflow_id/suspend')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Suspend Workflow',
    description: `Suspend a workflow at a specific step with payload to preserve state. ${RLS}`,
  })
  @ApiResponse({ status: 200, type: WorkflowActionResult })
  suspend(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workflow_id') id: string,
    @Body() dto: SuspendWorkflowDto,
  ): Promise<WorkflowActionResult> {
    return this.changes.suspend(principal, id, dto);
  }
}
