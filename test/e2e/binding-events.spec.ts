import { TestApp, startTestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';
import { Feed, recordingWorld } from '../helpers/recorded';

describe('events recorded by worker bindings', () => {
  let t: TestApp;
  let a: TenantSession;
  let customer: string;
  let person: string;
  let instance: string;
  let runtime: Record<string, string>;
  let feed: Feed;
  let siblingFeed: Feed;

  beforeAll(async () => {
    t = await startTestApp();
    ({ a, customer, person, instance, runtime, feed, siblingFeed } = await recordingWorld(t));
  });
  afterAll(() => t.close());

  const post = (path: string, body: object, headers = runtime) =>
    t.http().post(path).set(headers).send(body);

  describe('worker bindings', () => {
    let phone = 447700900100;
    const nextPhone = () => `+${++phone}`;
    const runtimeBase = () => `/internal/v1/instances/${instance}/worker-bindings`;
    const tenantBase = () => `/v1/customers/${customer}/worker-bindings`;
    const bindBody = () => ({
      channel_address: nextPhone(),
      channel_type: 'whatsapp',
      customer_id: customer,
      person_id: person,
    });
    const binding = (type: string, body: object, inst: string | null) =>
      expect.objectContaining({
        type,
        instance_id: inst,
        customer_id: customer,
        caused_by: null,
        data: { binding: body },
      });

    it('records created, verified, revoked and a rebind (revoked, then created) from the runtime', async () => {
      const from = await feed.end();
      const created = (await post(runtimeBase(), bindBody()).expect(201)).body;
      const verified = (await post(`${runtimeBase()}/${created.id}/verify`, {}).expect(200)).body;
      // Verifying again changes nothing, and records nothing.
      await post(`${runtimeBase()}/${created.id}/verify`, {}).expect(200);
      const address = nextPhone();
      const rebound = (
        await post(`${runtimeBase()}/${created.id}/rebind`, { new_address: address }).expect(201)
      ).body;
      const revoked = (await post(`${runtimeBase()}/${rebound.id}/revoke`, {}).expect(200)).body;
      const oldRevoked = (
        await t.http().get(runtimeBase()).set(runtime).query({ customer_id: customer })
      ).body.bindings.find((b: { id: string }) => b.id === created.id);
      expect(await feed.since(from)).toEqual([
        binding('binding.created', created, instance),
        binding('binding.verified', verified, instance),
        binding('binding.revoked', oldRevoked, instance),
        binding('binding.created', rebound, instance),
        binding('binding.revoked', revoked, instance),
      ]);
      expect(await siblingFeed.since(from)).toEqual([]);
    });

    it("records the dashboard's changes with no instance, unless the binding has one", async () => {
      const from = await siblingFeed.end();
      const made = (await post(tenantBase(), bindBody(), a.admin).expect(201)).body;
      const byRuntime = (await post(runtimeBase(), bindBody()).expect(201)).body;
      const rebound = (
        await post(
          `${tenantBase()}/${byRuntime.id}/rebind`,
          { new_address: nextPhone() },
          a.admin,
        ).expect(201)
      ).body;
      await post(`${tenantBase()}/${made.id}/revoke`, {}, a.admin).expect(200);
      const events = await feed.since(from);
      expect(events.map((e) => [e.type, e.data.binding.id, e.instance_id])).toEqual([
        ['binding.created', made.id, null],
        ['binding.created', byRuntime.id, instance],
        ['binding.revoked', byRuntime.id, instance],
        ['binding.created', rebound.id, null],
        ['binding.revoked', made.id, null],
      ]);
      // The tenant's events of no instance are every instance's; the runtime's are its own.
      expect((await siblingFeed.since(from)).map((e) => e.id)).toEqual(
        events.filter((e) => e.instance_id === null).map((e) => e.id),
      );
    });

    it('records nothing for a refused change', async () => {
      const taken = (await post(runtimeBase(), bindBody()).expect(201)).body;
      const other = (await post(runtimeBase(), bindBody()).expect(201)).body;
      const from = await feed.end();
      // A rebind onto a live address is refused after the old binding was revoked: rolled back.
      await post(`${runtimeBase()}/${other.id}/rebind`, {
        new_address: taken.channel_address,
      }).expect(409);
      await post(runtimeBase(), { ...bindBody(), channel_address: taken.channel_address }).expect(
        409,
      );
      await post(`${runtimeBase()}/${taken.id}/revoke`, {}).expect(200);
      const revoked = await feed.end();
      await post(`${runtimeBase()}/${taken.id}/revoke`, {}).expect(409);
      await post(`${runtimeBase()}/${taken.id}/verify`, {}).expect(409);
      expect((await feed.since(from)).map((e) => e.type)).toEqual(['binding.revoked']);
      expect(await feed.since(revoked)).toEqual([]);
    });
  });
});
