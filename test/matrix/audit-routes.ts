import type { MatrixRoute } from './routes';

/**
 * The audit log is for tenant admins: customer admins, members and the runtime are refused. A
 * caller of tenant B reads B's own log, in which nothing of A's appears.
 */
export const AUDIT_ROUTES: MatrixRoute[] = [
  {
    route: 'GET /v1/audit-log',
    access: 'tenant_admin',
    ok: 200,
    tenantFree: true,
    call: () => ({ url: '/v1/audit-log?limit=20' }),
  },
];
