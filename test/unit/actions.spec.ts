import { wireLoc } from '../../src/common/wire';
import { validateActions } from '../../src/rules/actions';

describe('action validation', () => {
  it('applies defaults and drops unknown keys', () => {
    const { actions, errors } = validateActions([
      { type: 'require_approval', skill_slug: 'payments', action: 'pay_contractor', x: 1 },
      { type: 'notify', to: 'ops', message: 'Rent overdue' },
      { type: 'create_workflow', workflow_type: 'rent_arrears' },
      { type: 'block', reason: 'Over limit' },
    ]);
    expect(errors).toEqual([]);
    expect(actions).toEqual([
      {
        type: 'require_approval',
        skill_slug: 'payments',
        action: 'pay_contractor',
        approver_role: 'customer',
        expires_in_hours: 24,
      },
      { type: 'notify', to: 'ops', message: 'Rent overdue' },
      { type: 'create_workflow', workflow_type: 'rent_arrears', stage: null, title: null },
      { type: 'block', reason: 'Over limit' },
    ]);
  });

  it.each<[unknown, (string | number)[]]>([
    [[], ['body', 'actions']],
    [[{ type: 'explode' }], ['body', 'actions', 0, 'type']],
    [
      [{ type: 'require_approval', skill_slug: 'crypto', action: 'buy' }],
      ['body', 'actions', 0, 'skill_slug'],
    ],
    [
      [{ type: 'require_approval', skill_slug: 'payments', action: 'serve_notice' }],
      ['body', 'actions', 0, 'action'],
    ],
    [
      [
        {
          type: 'require_approval',
          skill_slug: 'payments',
          action: 'pay_contractor',
          expires_in_hours: 169,
        },
      ],
      ['body', 'actions', 0, 'expires_in_hours'],
    ],
    [
      [
        {
          type: 'require_approval',
          skill_slug: 'payments',
          action: 'pay_contractor',
          approver_role: 'admin',
        },
      ],
      ['body', 'actions', 0, 'approver_role'],
    ],
    [
      [
        { type: 'block', reason: 'ok' },
        { type: 'notify', to: 'ops' },
      ],
      ['body', 'actions', 1, 'message'],
    ],
    [
      [{ type: 'create_workflow', workflow_type: 'party' }],
      ['body', 'actions', 0, 'workflow_type'],
    ],
    [[{ type: 'block', reason: 'x'.repeat(501) }], ['body', 'actions', 0, 'reason']],
    [[7], ['body', 'actions', 0]],
  ])('refuses %j at %j', (actions, loc) => {
    expect(
      validateActions(actions)
        .errors.map(wireLoc)
        .map((e) => e.loc),
    ).toEqual([loc]);
  });
});
