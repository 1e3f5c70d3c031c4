import { randomUUID } from 'node:crypto';
import { signDevToken } from '../../src/auth/tokens';
import { TEST_JWT_SECRET, TEST_PLATFORM_KEY, TestApp } from './app';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function token(
  tenantId: string,
  role: 'admin' | 'member',
  customerId: string | null = null,
): string {
  return signDevToken(TEST_JWT_SECRET, { sub: randomUUID(), tenantId, customerId, role });
}

/**
 * A tenant of its own for one test, built through the public API like a real operator would.
 * Helpers return plain ids and credentials; nothing is shared between tests.
 */
export class TenantSession {
  readonly admin: Record<string, string>;

  private constructor(
    readonly t: TestApp,
    readonly tenantId: string,
  ) {
    this.admin = bearer(token(tenantId, 'admin'));
  }

  static async create(t: TestApp, name = 'Tenant'): Promise<TenantSession> {
    const res = await t
      .http()
      .post('/platform/v1/tenants')
      .set('X-Platform-Key', TEST_PLATFORM_KEY)
      .send({ name });
    if (res.status !== 201) throw new Error(`tenant: ${res.status} ${JSON.stringify(res.body)}`);
    return new TenantSession(t, res.body.id);
  }

  customerAdmin(customerId: string) {
    return bearer(token(this.tenantId, 'admin', customerId));
  }

  member(customerId: string | null = null) {
    return bearer(token(this.tenantId, 'member', customerId));
  }

  private async post(path: string, body: object): Promise<{ id: string; key: string }> {
    const res = await this.t.http().post(path).set(this.admin).send(body);
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async customer(name = 'Customer'): Promise<string> {
    return (await this.post('/v1/customers', { name })).id;
  }

  async person(customerId: string, name = 'Person'): Promise<string> {
    return (await this.post(`/v1/customers/${customerId}/persons`, { name })).id;
  }

  async instance(name = 'Instance'): Promise<string> {
    return (await this.post('/v1/instances', { name })).id;
  }

  async proxyKey(
    instanceId: string,
  ): Promise<{ id: string; key: string; headers: Record<string, string> }> {
    const body = await this.post(`/v1/instances/${instanceId}/proxy-keys`, {});
    return { id: body.id, key: body.key, headers: bearer(body.key) };
  }

  async apiKey(role: 'admin' | 'member' = 'admin', customerId?: string) {
    const body = await this.post('/v1/api-keys', { name: 'key', role, customer_id: customerId });
    return {
      id: body.id,
      key: body.key,
      headers: { 'X-Api-Key': body.key },
    };
  }
}
