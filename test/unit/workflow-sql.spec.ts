import { NOW, WorkflowChange, changeSets } from '../../src/workflows/workflow-sql';

describe('changeSets', () => {
  it('writes each field to its column, values as parameters after those already there', () => {
    const params: unknown[] = ['tenant', 'id'];
    const sets = changeSets(
      {
        status: 'completed',
        stage: null,
        assignedTo: 'ops',
        approverId: null,
        escalationLevel: 2,
        expiresAt: new Date(0),
        nextActionAt: null,
        workflowState: { a: 1 },
        completedAt: NOW,
        suspendedStep: null,
        suspendedPayload: null,
        suspendedAt: NOW,
      },
      params,
    );
    expect(sets).toEqual([
      'status = $3',
      'stage = $4',
      'assigned_to = $5',
      'approver_id = $6',
      'escalation_level = $7',
      'expires_at = $8',
      'next_action_at = $9',
      'workflow_state = $10::jsonb',
      'completed_at = now()',
      'suspended_step = $11',
      'suspended_payload = $12::jsonb',
      'suspended_at = now()',
    ]);
    expect(params).toEqual([
      'tenant',
      'id',
      'completed',
      null,
      'ops',
      null,
      2,
      new Date(0),
      null,
      '{"a":1}',
      null,
      null,
    ]);
  });

  it('leaves out fields not given, and never writes a key it does not know', () => {
    const params: unknown[] = [];
    const change = { stage: 's', 'status = status; --': 'x', toString: 'y' } as WorkflowChange;
    expect(changeSets(change, params)).toEqual(['stage = $1']);
    expect(params).toEqual(['s']);
  });
});
