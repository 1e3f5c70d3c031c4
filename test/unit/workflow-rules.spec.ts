import { Json, mergePatch } from '../../src/workflows/merge-patch';
import {
  OPEN_STATUSES,
  TERMINAL_STATUSES,
  WORKFLOW_STATUSES,
  refusal,
} from '../../src/workflows/state-machine';

describe('mergePatch (RFC 7386)', () => {
  it.each<[Json, Json, Json]>([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('merges %j with %j into %j (the RFC’s examples)', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('leaves its arguments unchanged', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});

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
