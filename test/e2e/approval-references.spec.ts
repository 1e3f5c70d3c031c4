import { TenantSession } from '../helpers/factories';
import {
  ApprovalWorld,
  approvalCalls,
  approvalWorld,
  closeApprovalWorld,
} from '../helpers/approval-world';

const NOBODY = '00000000-0000-4000-8000-000000000000';

/**
 * The ids an approval request names (customer, rule, approver person) are checked in that
 * order, whatever does the checking: the rule by the approvals table's foreign key, the others
 * by the directory.
 */
describe('approval references', () => {
  let world: ApprovalWorld;
  beforeAll(async () => {
    world = await approvalWorld();
  });
  afterAll(() => closeApprovalWorld(world));

  const { request } = approvalCalls(() => world);
  const approvals = async () =>
    Number((await world.t.raw.query('SELECT count(*) FROM approvals')).rows[0].count);
  const rule = async (session: TenantSession) =>
    (
      await world.t
        .http()
        .post('/v1/rules')
        .set(session.admin)
        .send({
          name: 'r',
          trigger_event: 'skill.invoked',
          actions: [{ type: 'block', reason: 'x' }],
        })
        .expect(201)
    ).body.id as string;

  it.each<[string, object, string]>([
    [
      'customer, rule and person',
      { customer_id: NOBODY, rule_id: NOBODY, approver_person_id: NOBODY },
      'customer_id',
    ],
    ['rule and person', { rule_id: NOBODY, approver_person_id: NOBODY }, 'rule_id'],
    ['person', { approver_person_id: NOBODY }, 'approver_person_id'],
    ['rule, with a known person', { rule_id: NOBODY, approver_person_id: 'PERSON' }, 'rule_id'],
  ])('refuses unknown %s at the first of them, storing nothing', async (_, extra, field) => {
    const body = Object.fromEntries(
      Object.entries(extra).map(([k, v]) => [k, v === 'PERSON' ? world.person : v]),
    );
    const before = await approvals();
    const res = await request(body).expect(422);
    const msg = { customer_id: 'Customer', rule_id: 'Rule', approver_person_id: 'Person' }[field];
    expect(res.body.detail).toEqual([
      { loc: ['body', field], msg: `${msg} not found`, type: 'value_error' },
    ]);
    expect(await approvals()).toBe(before);
  });

  it('refuses another tenant’s rule as unknown', async () => {
    const other = await TenantSession.create(world.t, 'Other');
    const res = await request({ rule_id: await rule(other) }).expect(422);
    expect(res.body.detail).toEqual([
      { loc: ['body', 'rule_id'], msg: 'Rule not found', type: 'value_error' },
    ]);
  });

  it('names a known rule and person', async () => {
    const id = await rule(world.a);
    const res = await request({ rule_id: id, approver_person_id: world.person }).expect(201);
    expect(res.body).toMatchObject({ rule_id: id, approver_person_id: world.person });
  });
});
