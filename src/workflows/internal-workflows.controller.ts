import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InternalAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import {
  AdvanceWorkflowDto,
  CreateWorkflowDto,
  ListWorkflowsInternalQuery,
  ResumeWorkflowDto,
  SuspendWorkflowDto,
  WorkflowActionResult,
  WorkflowPage,
} from './dto/workflows.dto';
import { WorkflowChangesService } from './workflow-changes.service';
import { Workflow } from './workflow.entity';
import { WorkflowsService } from './workflows.service';
import { Idempotent } from '../database/idempotent';

@ApiTags('Workflows')
@Controller('internal/v1/instances/:instance_id/workflows')
@InternalAuth()
export class InternalWorkflowsController {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly changes: WorkflowChangesService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Query Workflows Internal',
    description:
      'Query workflow records. Called by agent runtime via platform skill. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: WorkflowPage })
  list(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Query() query: ListWorkflowsInternalQuery,
  ): Promise<WorkflowPage> {
    return this.workflows.list({ principal, instanceId }, query);
  }

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: 'Create Workflow',
    description:
      'Create a new workflow record. Called by agent runtime via platform skill. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 201, type: Workflow })
  create(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Body() dto: CreateWorkflowDto,
  ): Promise<Workflow> {
    return this.workflows.create({ principal, instanceId }, dto);
  }

  @Get(':workflow_id')
  @ApiOperation({
    summary: 'Get Workflow Internal',
    description: 'Get a single workflow record. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: Workflow })
  get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('workflow_id') id: string,
  ): Promise<Workflow> {
    return this.workflows.get({ principal, instanceId }, id);
  }

  @Patch(':workflow_id')
  @ApiOperation({
    summary: 'Advance Workflow',
    description:
      "Advance a workflow's state. Called by agent runtime via platform skill. Auth: Bearer proxy key.",
  })
  @ApiResponse({ status: 200, type: Workflow })
  advance(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('workflow_id') id: string,
    @Body() dto: AdvanceWorkflowDto,
  ): Promise<Workflow> {
    return this.changes.advance({ principal, instanceId }, id, dto);
  }

  @Post(':workflow_id/resume')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume Workflow Internal',
    description: 'Resume a suspended workflow from the agent runtime. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: WorkflowActionResult })
  resume(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('workflow_id') id: string,
    @Body() dto: ResumeWorkflowDto,
  ): Promise<WorkflowActionResult> {
    return this.changes.resume({ principal, instanceId }, id, dto.resumeData);
  }

  @Post(':workflow_id/suspend')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Suspend Workflow Internal',
    description: 'Suspend a workflow from the agent runtime. Auth: Bearer proxy key.',
  })
  @ApiResponse({ status: 200, type: WorkflowActionResult })
  suspend(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('instance_id') instanceId: string,
    @UuidParam('workflow_id') id: string,
    @Body() dto: SuspendWorkflowDto,
  ): Promise<WorkflowActionResult> {
    return this.changes.suspend({ principal, instanceId }, id, dto);
  }
}
