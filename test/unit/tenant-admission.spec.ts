import { loadConfig } from '../../src/config/app-config';
import { DEEP_WALK_ROWS } from '../../src/common/list';
import { TenantAdmission } from '../../src/database/tenant-admission';

describe('TenantAdmission.walk', () => {
  const admission = new TenantAdmission(
    loadConfig({
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: 'ab'.repeat(32),
    }),
  );
  const deep = DEEP_WALK_ROWS;

  /** A walk whose work runs until `finish` is called; `started` says whether it has begun. */
  function held(tenantId: string, offset: number) {
    let started = false;
    let finish!: () => void;
    const done = admission.walk(tenantId, offset, () => {
      started = true;
      return new Promise<void>((resolve) => (finish = resolve));
    });
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    return { done, started: () => tick().then(() => started), finish: () => finish() };
  }

  it("runs a tenant's deep pages one at a time, while their statements run", async () => {
    const first = held('b', deep);
    const second = held('b', deep);
    expect(await first.started()).toBe(true);
    expect(await second.started()).toBe(false);
    // Another tenant's deep page, and this tenant's shallow one, do not wait.
    const other = held('a', deep);
    const shallow = held('b', deep - 1);
    expect([await other.started(), await shallow.started()]).toEqual([true, true]);
    first.finish();
    await first.done;
    expect(await second.started()).toBe(true);
    for (const walk of [second, other, shallow]) walk.finish();
    await Promise.all([second.done, other.done, shallow.done]);
  });

  it('charges a page that fails its offset, and gives its turn back', async () => {
    const charged = jest.spyOn(admission, 'chargeWalk');
    const failure = new Error('statement timeout');
    await expect(admission.walk('c', deep, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(charged).toHaveBeenCalledWith('c', deep);
    const next = held('c', deep);
    expect(await next.started()).toBe(true);
    next.finish();
    await next.done;
  });
});
