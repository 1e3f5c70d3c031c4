import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { ApprovalsService } from './approvals.service';
import { ApprovalPage, ListApprovalsQuery } from './dto/approvals.dto';

@ApiTags('Approvals')
@Controller('v1/approvals')
export class TenantApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  /** Needs a credential although the published reference shows none: it returns tenant data. */
  @Get()
  @DashboardAuth('any')
  @ApiOperation({
    summary: 'Tenant List Approvals',
    description:
      'List approvals for tenant dashboard. Customer-scoped callers see their customer only.',
  })
  @ApiResponse({ status: 200, type: ApprovalPage })
  list(
    @CurrentPrincipal() p: Principal,
    @Query() query: ListApprovalsQuery,
  ): Promise<ApprovalPage> {
    return this.approvals.list(p, query);
  }
}
