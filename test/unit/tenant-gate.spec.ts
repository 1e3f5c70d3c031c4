import { DomainError } from '../../src/common/errors';
import { TenantGate } from '../../src/database/tenant-gate';

describe('TenantGate', () => {
  it('admits a tenant up to its share, then queues it in arrival order, other tenants untouched', async () => {
    const gate = new TenantGate(2, 1000);
    await gate.enter('a');
    await gate.enter('a');
    const order: number[] = [];
    const third = gate.enter('a').then(() => order.push(3));
    const fourth = gate.enter('a').then(() => order.push(4));
    await gate.enter('b'); // another tenant is not behind a's queue
    expect(gate.load('a')).toEqual({ held: 2, waiting: 2 });
    gate.leave('a');
    gate.leave('a');
    await Promise.all([third, fourth]);
    expect(order).toEqual([3, 4]);
    gate.leave('a');
    gate.leave('a');
    expect(gate.load('a')).toEqual({ held: 0, waiting: 0 });
  });

  it('tells a waiter to retry (429) after its wait, and forgets it', async () => {
    const gate = new TenantGate(1, 20);
    await gate.enter('a');
    const refused = await gate.enter('a').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).kind).toBe('overloaded');
    expect(gate.load('a')).toEqual({ held: 1, waiting: 0 });
  });
});
