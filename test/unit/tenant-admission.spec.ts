import { EventEmitter } from 'node:events';
import { loadConfig } from '../../src/config/app-config';
import { TenantAdmission } from '../../src/database/tenant-admission';

/** A response that closes when told to. */
const response = () => Object.assign(new EventEmitter(), { closed: false });

describe('TenantAdmission, walks', () => {
  const admission = new TenantAdmission(
    loadConfig({
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: 'ab'.repeat(32),
    }),
  );
  const settled = (promise: Promise<void>) => {
    let done = false;
    void promise.then(() => (done = true));
    return () => new Promise((resolve) => setImmediate(() => resolve(done)));
  };

  it("takes a tenant's deep walks one at a time, each until its response closes", async () => {
    const first = response();
    await admission.holdForWalk('b', first);
    const second = settled(admission.holdForWalk('b', response()));
    expect(await second()).toBe(false);
    // Another tenant's walk does not wait behind b's.
    expect(await settled(admission.holdForWalk('a', response()))()).toBe(true);
    first.closed = true;
    first.emit('close');
    expect(await second()).toBe(true);
  });

  it('gives the turn back at once for a response closed while it waited', async () => {
    const gone = Object.assign(response(), { closed: true });
    await admission.holdForWalk('c', gone);
    expect(await settled(admission.holdForWalk('c', response()))()).toBe(true);
  });
});
