import { TestApp, startTestApp } from './app';
import { TenantSession } from './factories';

/** Tenant A with customers One and Two: what the rule tests start from. */
export interface RuleWorld {
  t: TestApp;
  a: TenantSession;
  c1: string;
  c2: string;
}

/** A rule every create accepts; tests override what they are about. */
export const VALID_RULE = {
  name: 'Big payments need the owner',
  trigger_event: 'skill.invoked',
  conditions: [
    { field: 'skill_slug', operator: 'eq', value: 'payments' },
    { field: 'amount', operator: 'gt', value: 500 },
  ],
  actions: [
    {
      type: 'require_approval',
      skill_slug: 'payments',
      action: 'pay_contractor',
      approver_role: 'owner',
    },
  ],
};

export async function ruleWorld(env: Record<string, string> = {}): Promise<RuleWorld> {
  const t = await startTestApp(env);
  const a = await TenantSession.create(t, 'A');
  return { t, a, c1: await a.customer('One'), c2: await a.customer('Two') };
}

/** The calls the rule tests share, on the world `world()` returns once it is built. */
export function ruleCalls(world: () => RuleWorld) {
  const create = (body: object, headers?: Record<string, string>) => {
    const { t, a } = world();
    return t
      .http()
      .post('/v1/rules')
      .set(headers ?? a.admin)
      .send({ ...VALID_RULE, ...body });
  };
  return {
    /** POST /v1/rules with VALID_RULE and `body` over it, as the tenant admin by default. */
    create,
    /** Creates one (expects 201) and returns its body. */
    rule: async (body: object = {}) => (await create(body).expect(201)).body,
    /** Rules stored, every tenant's, read past RLS. */
    count: async () =>
      Number((await world().t.raw.query('SELECT count(*) FROM rules')).rows[0].count),
  };
}
