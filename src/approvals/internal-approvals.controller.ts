import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { InternalAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { listEnvelope } from '../common/list';
import { UuidParam } from '../common/params';
import { Approval } from './approval.entity';
import { ApprovalsService } from './approvals.service';
import {
  APPROVAL_PAGE,
  CreateApprovalDto,
  PendingApprovalsQuery,
  ResolveApprovalDto,
} from './dto/approvals.dto';
import { Idempotent } from '../database/idempotent';

const PendingList = listEnvelope(Approval, 'approvals');

@ApiTags('Approvals')
@Controller('internal/v1/instances/:instance_id/approvals')
@InternalAuth()
export class InternalApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get('pending')
  @ApiOperation({
    summary: 'List Pending Approvals',
    description: `List pending approvals for a customer, newest first, at most limit (default ${APPROVAL_PAGE.pendingLimit}).`,
  })
  @ApiResponse({ status: 200, type: PendingList })
  async pending(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') _instanceId: string,
    @Query() q: PendingApprovalsQuery,
  ) {
    return PendingList.of(
      await this.approvals.pending(p, q.customerId, q.limit ?? APPROVAL_PAGE.pendingLimit),
    );
  }

  @Post('request')
  @Idempotent()
  @ApiOperation({
    summary: 'Create Approval Request',
    description:
      'Create a pending approval. Called when a rule triggers require_approval. With an idempotency_key already used for the same request, answers 200 with the first approval; for a different request, 409.',
  })
  @ApiResponse({ status: 201, type: Approval })
  @ApiResponse({
    status: 200,
    type: Approval,
    description: 'The approval first created with this idempotency_key',
  })
  async request(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') instanceId: string,
    @Body() dto: CreateApprovalDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Approval> {
    const { approval, created } = await this.approvals.request(p, instanceId, dto);
    void reply.status(created ? 201 : 200);
    return approval;
  }

  @Post('resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resolve Approval',
    description: 'Resolve a pending approval (approve or reject). Creates outbox entry on approve.',
  })
  @ApiResponse({ status: 200, type: Approval })
  resolve(
    @CurrentPrincipal() p: Principal,
    @UuidParam('instance_id') _instanceId: string,
    @Body() dto: ResolveApprovalDto,
  ): Promise<Approval> {
    return this.approvals.resolve(p, dto);
  }
}
