import { REF_ALPHABET, approvalRef, canonicalJson, intentHash } from '../../src/approvals/intent';

describe('canonical JSON and intent hashes', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: undefined, b: 'x' })).toBe('{"b":"x"}');
  });

  it('hashes the same intent the same whatever the key order, and any change differently', () => {
    const one = intentHash('payments', 'pay_contractor', { amount: 500, contractor_id: 'C-1' });
    expect(intentHash('payments', 'pay_contractor', { contractor_id: 'C-1', amount: 500 })).toBe(
      one,
    );
    expect(
      intentHash('payments', 'pay_contractor', { contractor_id: 'C-1', amount: 501 }),
    ).not.toBe(one);
    expect(
      intentHash('payments', 'refund_deposit', { contractor_id: 'C-1', amount: 500 }),
    ).not.toBe(one);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('approval references', () => {
  it('are APR- and 8 characters that read aloud unambiguously', () => {
    for (let i = 0; i < 500; i++) expect(approvalRef()).toMatch(/^APR-[A-HJ-NP-Z2-9]{8}$/);
    expect(REF_ALPHABET).not.toMatch(/[01IO]/);
  });
});
