import { TenantPace } from '../../src/database/tenant-pace';

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
