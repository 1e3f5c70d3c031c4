import {
  OPEN_STATUSES,
  TERMINAL_STATUSES,
  WORKFLOW_STATUSES,
  refusal,
} from '../../src/workflows/state-machine';

describe('workflow state machine', () => {
  it.each(TERMINAL_STATUSES)('refuses every operation on a %s workflow', (status) => {
    for (const op of ['advance', 'suspend', 'resume', 'abort'] as const) {
      expect(refusal(op, status)).toBe(`Workflow is ${status}`);
    }
  });

  it('enters and leaves suspended only through suspend and resume', () => {
    for (const from of OPEN_STATUSES.filter((s) => s !== 'suspended')) {
      expect(refusal('advance', from, 'suspended')).toMatch(/only through suspend/);
      expect(refusal('suspend', from)).toBeNull();
      expect(refusal('resume', from)).toMatch(/not suspended/);
    }
    for (const to of WORKFLOW_STATUSES)
      expect(refusal('advance', 'suspended', to)).toMatch(/resume it first/);
    expect(refusal('resume', 'suspended')).toBeNull();
    expect(refusal('suspend', 'suspended')).toMatch(/already suspended/);
  });

  it('lets open workflows advance to any other status and be aborted', () => {
    for (const from of OPEN_STATUSES.filter((s) => s !== 'suspended')) {
      for (const to of WORKFLOW_STATUSES.filter((s) => s !== 'suspended'))
        expect(refusal('advance', from, to)).toBeNull();
    }
    for (const from of OPEN_STATUSES) expect(refusal('abort', from)).toBeNull();
  });
});
