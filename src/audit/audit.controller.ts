import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { AuditLogPage, AuditLogQuery } from './dto/audit.dto';
import { AuditService } from './audit.service';

const ENTRY = {
  id: '3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14',
  at: '2030-01-01T09:30:00.000Z',
  actor: { kind: 'user', id: 'auth0|5f7c8ec7c33c6c004bbafe82' },
  action: 'rule.updated',
  target_type: 'rule',
  target_id: '8a2d4f6b-1c3e-4a5b-9d7f-2e4c6a8b0d1f',
  request_id: 'c0a80101-0000-4000-8000-000000000001',
  changes: { priority: [10, 20], is_active: [true, false] },
};

@ApiTags('Audit')
@Controller('v1/audit-log')
@DashboardAuth('tenant-admin')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'List Audit Log',
    description:
      'Every change made through the dashboard and platform routes, and every key issued, ' +
      'rotated or revoked: who (`actor`), what (`action`, `target_type`, `target_id`), the ' +
      'fields changed (`changes`, secrets never shown) and the request. Newest first; the next ' +
      'page is `after` = `next_after`, and paging never repeats an entry. Entries cannot be ' +
      'changed or deleted. Auth: JWT or API key of a tenant admin (role admin, no customer).',
  })
  @ApiResponse({
    status: 200,
    type: AuditLogPage,
    example: { entries: [ENTRY], next_after: ENTRY.id, has_more: false },
  })
  list(@CurrentPrincipal() p: Principal, @Query() q: AuditLogQuery): Promise<AuditLogPage> {
    return this.audit.list(p.tenantId, q);
  }
}
