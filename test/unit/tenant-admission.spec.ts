import { DomainError } from '../../src/common/errors';
import { TenantGate } from '../../src/database/tenant-gate';
import { TenantPace } from '../../src/database/tenant-pace';

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

describe('TenantPace', () => {
  const MiB = 1024 * 1024;

  it('lets a tenant at rest draw its burst at once, then charges it into debt', () => {
    const pace = new TenantPace(4 * MiB, 32 * MiB);
    expect(pace.debtMs('a', 0)).toBe(0);
    pace.charge('a', 24 * MiB, 0);
    expect(pace.debtMs('a', 0)).toBe(0); // 8 MiB left
    pace.charge('a', 24 * MiB, 0);
    expect(pace.debtMs('a', 0)).toBe(4000); // 16 MiB owed at 4 MiB/s
    expect(pace.debtMs('a', 3000)).toBe(1000);
    expect(pace.debtMs('a', 4000)).toBe(0);
    expect(pace.debtMs('b', 0)).toBe(0); // another tenant owes nothing
  });

  it('refills no further than the burst', () => {
    const pace = new TenantPace(4 * MiB, 32 * MiB);
    pace.charge('a', 1 * MiB, 0);
    pace.charge('a', 40 * MiB, 3_600_000); // an hour later: the full burst, not 4 GiB
    expect(pace.debtMs('a', 3_600_000)).toBe(2000);
  });
});
