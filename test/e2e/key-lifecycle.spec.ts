import { PoolClient } from 'pg';
import { TenantLifecycle1732408400000 } from '../../migrations/1732408400000-tenant-lifecycle';
import { TEST_PLATFORM_KEY, TestApp, startTestApp } from '../helpers/app';
import { inOwnerTransaction } from '../helpers/owner-transaction';
import { TenantSession } from '../helpers/factories';
import { holdLock, lockWaiters, until } from '../helpers/locks';

const PLATFORM = { 'X-Platform-Key': TEST_PLATFORM_KEY };

interface Response {
  status: number;
  body: { key?: string };
}
const answer = (res: Response): Response => res;

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe('key lifecycle', () => {
  let t: TestApp;
  let a: TenantSession;
  beforeAll(async () => {
    t = await startTestApp();
    a = await TenantSession.create(t);
  });
  afterAll(() => t.close());

  describe('API keys', () => {
    const create = (body: object) => t.http().post('/v1/api-keys').set(a.admin).send(body);

    it('take an expiry in the future and are refused after it', async () => {
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      const res = await create({ name: 'temp', role: 'admin', expires_at: expiresAt }).expect(201);
      expect(new Date(res.body.expires_at).toISOString()).toBe(expiresAt);
      expect(res.body.last_used_at).toBeNull();
      const key = { 'X-Api-Key': res.body.key };
      await t.http().get('/v1/customers').set(key).expect(200);

      await t.raw.query(
        `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [res.body.id],
      );
      const refused = await t.http().get('/v1/customers').set(key).expect(401);
      expect(refused.body).toEqual({ detail: 'Invalid API key' });
      const live = (await t.http().get('/v1/api-keys').set(a.admin).expect(200)).body.api_keys;
      expect(live.map((k: { id: string }) => k.id)).not.toContain(res.body.id);
      const all = await t.http().get('/v1/api-keys?include_revoked=true').set(a.admin).expect(200);
      expect(all.body.api_keys.map((k: { id: string }) => k.id)).toContain(res.body.id);
    });

    it('refuse an expiry in the past, or not in RFC 3339', async () => {
      for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), '2030-01-01']) {
        const res = await create({ name: 'x', role: 'admin', expires_at: expiresAt }).expect(422);
        expect(res.body.detail[0].loc).toEqual(['body', 'expires_at']);
      }
      const past = await create({ name: 'x', role: 'admin', expires_at: '2001-01-01T00:00:00Z' });
      expect(past.body.detail[0].msg).toBe('expires_at must be in the future');
    });

    const unknownId = '00000000-0000-4000-8000-000000000000';

    it('show last_used_at, written at most once a minute', async () => {
      const { id, headers } = await a.apiKey();
      const stamp = async () =>
        (
          await t.raw.query<{ last_used_at: Date | null }>(
            'SELECT last_used_at FROM api_keys WHERE id = $1',
            [id],
          )
        ).rows[0].last_used_at;
      expect(await stamp()).toBeNull();
      // A refused request writes nothing, its key's last use included.
      await t.http().get(`/v1/customers/${unknownId}`).set(headers).expect(404);
      await t.http().post('/v1/customers').set(headers).send({}).expect(422);
      expect(await stamp()).toBeNull();
      await t.http().get('/v1/customers').set(headers).expect(200);
      const first = await stamp();
      expect(first).not.toBeNull();
      for (let i = 0; i < 3; i++) await t.http().get('/v1/customers').set(headers).expect(200);
      expect(await stamp()).toEqual(first);

      // A minute later (the stamp moved back in SQL rather than waiting) it is written again.
      await t.raw.query(
        `UPDATE api_keys SET last_used_at = now() - interval '61 seconds' WHERE id = $1`,
        [id],
      );
      const aged = await stamp();
      await t.http().get('/v1/customers').set(headers).expect(200);
      const second = await stamp();
      expect(second!.getTime()).toBeGreaterThan(aged!.getTime() + 60_000);

      const list = (await t.http().get('/v1/api-keys').set(a.admin).expect(200)).body.api_keys;
      const shown = list.find((k: { id: string }) => k.id === id);
      expect(new Date(shown.last_used_at).getTime()).toBe(second!.getTime());
    });
  });

  describe('proxy keys', () => {
    let instance: string;
    beforeAll(async () => {
      instance = await a.instance();
    });
    const own = () => `/internal/v1/instances/${instance}`;
    const rotate = (keyId: string, body?: object) => {
      const call = t
        .http()
        .post(`/v1/instances/${instance}/proxy-keys/${keyId}/rotate`)
        .set(a.admin);
      return body === undefined ? call : call.send(body);
    };

    it('rotate: a new key at once, the old one through its grace, then refused', async () => {
      const old = await a.proxyKey(instance);
      const res = await rotate(old.id, { grace_hours: 2 }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({ instance_id: instance, key: expect.any(String) });
      expect(res.body.id).not.toBe(old.id);
      await t.http().get(own()).set(bearer(res.body.key)).expect(200);
      await t.http().get(own()).set(old.headers).expect(200);

      const { rows } = await t.raw.query<{ hours: number }>(
        `SELECT extract(epoch FROM expires_at - now()) / 3600 AS hours FROM proxy_keys WHERE id = $1`,
        [old.id],
      );
      expect(Number(rows[0].hours)).toBeGreaterThan(1.9);
      expect(Number(rows[0].hours)).toBeLessThanOrEqual(2);

      await t.raw.query(
        `UPDATE proxy_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [old.id],
      );
      const refused = await t.http().get(own()).set(old.headers).expect(401);
      expect(refused.body).toEqual({ detail: 'Invalid proxy key' });
      await t.http().get(own()).set(bearer(res.body.key)).expect(200);
    });

    it('rotate: 24 hours of grace by default, 0 ends the old key at once', async () => {
      const old = await a.proxyKey(instance);
      await rotate(old.id).expect(201);
      const { rows } = await t.raw.query<{ hours: number }>(
        `SELECT extract(epoch FROM expires_at - now()) / 3600 AS hours FROM proxy_keys WHERE id = $1`,
        [old.id],
      );
      expect(Number(rows[0].hours)).toBeGreaterThan(23.9);
      await rotate(old.id, {}).expect(409); // its grace is already running

      const other = await a.proxyKey(instance);
      await rotate(other.id, { grace_hours: 0 }).expect(201);
      await t.http().get(own()).set(other.headers).expect(401);
    });

    it('rotate: refuses a grace out of range and an unknown key', async () => {
      const key = await a.proxyKey(instance);
      for (const grace of [-1, 169, 1.5, '2']) {
        const res = await rotate(key.id, { grace_hours: grace }).expect(422);
        expect(res.body.detail[0].loc).toEqual(['body', 'grace_hours']);
      }
      await rotate('00000000-0000-4000-8000-000000000000', {}).expect(404);
      await t.http().get(own()).set(key.headers).expect(200); // nothing happened to it
    });
  });

  describe('instances and customers', () => {
    it('renames a customer and an instance', async () => {
      const customer = await a.customer('Old name');
      const res = await t
        .http()
        .patch(`/v1/customers/${customer}`)
        .set(a.admin)
        .send({ name: 'New name' })
        .expect(200);
      expect(res.body).toMatchObject({ id: customer, name: 'New name' });
      const instance = await a.instance('Old');
      await t.http().patch(`/v1/instances/${instance}`).set(a.admin).send({ name: '' }).expect(422);
      await t
        .http()
        .patch(`/v1/instances/${instance}`)
        .set(a.admin)
        .send({ name: 'New' })
        .expect(200);
      const { rows } = await t.raw.query(
        'SELECT (SELECT name FROM customers WHERE id = $1) AS c, (SELECT name FROM instances WHERE id = $2) AS i',
        [customer, instance],
      );
      expect(rows).toEqual([{ c: 'New name', i: 'New' }]);
    });

    it('revokes a key made while its instance was being deleted', async () => {
      const instance = await a.instance('Racing');
      // A held lock on the instance lets both requests start and queue: the key's first.
      const release = await holdLock(t, 'SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [
        instance,
      ]);
      let made: Promise<Response> | undefined;
      let deleted: Promise<Response> | undefined;
      try {
        made = t.http().post(`/v1/instances/${instance}/proxy-keys`).set(a.admin).then(answer);
        await until(async () => (await lockWaiters(t)) === 1);
        deleted = t.http().delete(`/v1/instances/${instance}`).set(a.admin).then(answer);
        await until(async () => (await lockWaiters(t)) === 2);
      } finally {
        await release();
      }
      const key = await made;
      expect((await deleted).status).toBe(204);
      expect(key.status).toBe(201);
      const { rows } = await t.raw.query(
        'SELECT revoked_at IS NOT NULL AS revoked FROM proxy_keys WHERE instance_id = $1',
        [instance],
      );
      expect(rows).toEqual([{ revoked: true }]);
      await t
        .http()
        .get(`/internal/v1/instances/${instance}`)
        .set({ Authorization: `Bearer ${key.body.key}` })
        .expect(401);
    });

    it('deletes the endpoint made while its instance was being deleted', async () => {
      const instance = await a.instance('Racing endpoint');
      const release = await holdLock(t, 'SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [
        instance,
      ]);
      let made: Promise<Response> | undefined;
      let deleted: Promise<Response> | undefined;
      try {
        made = t
          .http()
          .post(`/v1/instances/${instance}/channels`)
          .set(a.admin)
          .send({ channel_type: 'sms', provider: 'twilio', external_identifier: '+447700900601' })
          .then(answer);
        await until(async () => (await lockWaiters(t)) === 1);
        deleted = t.http().delete(`/v1/instances/${instance}`).set(a.admin).then(answer);
        await until(async () => (await lockWaiters(t)) === 2);
      } finally {
        await release();
      }
      expect((await made).status).toBe(201);
      expect((await deleted).status).toBe(204);
      const { rows } = await t.raw.query(
        'SELECT count(*)::int AS n FROM channel_endpoints WHERE instance_id = $1',
        [instance],
      );
      expect(rows).toEqual([{ n: 0 }]);
    });

    it("deletes an instance's channel endpoints: their addresses are free again", async () => {
      const instance = await a.instance('Numbered');
      const number = {
        channel_type: 'sms',
        provider: 'twilio',
        external_identifier: '+447700900602',
      };
      const endpoint = await t
        .http()
        .post(`/v1/instances/${instance}/channels`)
        .set(a.admin)
        .send(number)
        .expect(201);

      await t.http().delete(`/v1/instances/${instance}`).set(a.admin).expect(204);
      const { rows } = await t.raw.query(
        `SELECT (SELECT count(*)::int FROM channel_endpoints WHERE id = $1) AS endpoints,
                (SELECT count(*)::int FROM audit_log
                  WHERE target_id = $1 AND action = 'channel_endpoint.deleted') AS audited`,
        [endpoint.body.id],
      );
      expect(rows).toEqual([{ endpoints: 0, audited: 1 }]);
      await t
        .http()
        .patch(`/v1/instances/${instance}/channels/${endpoint.body.id}`)
        .set(a.admin)
        .send({ enabled: false })
        .expect(404);
      const next = await a.instance('Renumbered');
      await t.http().post(`/v1/instances/${next}/channels`).set(a.admin).send(number).expect(201);
    });

    it('audits concurrent renames and status changes each from the value it replaced', async () => {
      const flip = await TenantSession.create(t, 'Flip');
      const customer = await flip.customer('Name 0');
      const instance = await flip.instance('Name 0');
      const release = await holdLock(
        t,
        `SELECT 1 FROM customers c, tenants n, instances i
          WHERE c.id = $1 AND n.id = $2 AND i.id = $3 FOR UPDATE`,
        [customer, flip.tenantId, instance],
      );
      let changes: Promise<Response>[] = [];
      try {
        changes = [
          ...[1, 2].map((i) =>
            t
              .http()
              .patch(`/v1/customers/${customer}`)
              .set(flip.admin)
              .send({ name: `Name ${i}` }),
          ),
          ...[1, 2].map((i) =>
            t
              .http()
              .patch(`/v1/instances/${instance}`)
              .set(flip.admin)
              .send({ name: `Name ${i}` }),
          ),
          ...['suspended', 'active', 'suspended'].map((status) =>
            t.http().patch(`/platform/v1/tenants/${flip.tenantId}`).set(PLATFORM).send({ status }),
          ),
        ].map((request) => request.then(answer));
        await until(async () => (await lockWaiters(t)) === 7);
      } finally {
        await release();
      }
      for (const res of await Promise.all(changes)) expect(res.status).toBe(200);
      const targets = { customers: customer, instances: instance, tenants: flip.tenantId };
      // Two renames are two changes; of the three statuses, one taking effect after another of
      // the same value changes nothing, so whichever order they ran in, one at least changes.
      for (const [table, field, first, least] of [
        ['customers', 'name', 'Name 0', 2],
        ['instances', 'name', 'Name 0', 2],
        ['tenants', 'status', 'active', 1],
      ] as const) {
        const id = targets[table];
        const { rows } = await t.raw.query<{ change: [string, string] }>(
          `SELECT changes->'${field}' AS change FROM audit_log
            WHERE target_id = $1 AND action LIKE '%.updated' ORDER BY seq`,
          [id],
        );
        // Each entry starts from where the one before it ended, and the last ends as stored.
        const chain = rows.map((r) => r.change).filter((change) => change !== null);
        expect(chain.length).toBeGreaterThanOrEqual(least);
        chain.reduce<string>((before, [from, to]) => {
          expect(from).toBe(before);
          return to;
        }, first);
        const stored = await t.raw.query(`SELECT ${field} AS v FROM ${table} WHERE id = $1`, [id]);
        expect(stored.rows[0].v).toBe(chain[chain.length - 1][1]);
      }
    });

    it('deletes an instance: its proxy keys stop at once, what it made stays', async () => {
      const instance = await a.instance('Doomed');
      const key = await a.proxyKey(instance);
      const customer = await a.customer();
      const own = `/internal/v1/instances/${instance}`;
      await t.http().get(own).set(key.headers).expect(200);
      const workflow = await t
        .http()
        .post(`${own}/workflows`)
        .set(key.headers)
        .send({ customer_id: customer, workflow_type: 'rent_arrears' })
        .expect(201);

      await t.http().delete(`/v1/instances/${instance}`).set(a.admin).expect(204);
      const refused = await t.http().get(own).set(key.headers).expect(401);
      expect(refused.body).toEqual({ detail: 'Invalid proxy key' });
      await t.http().get(`${own}/workflows`).set(key.headers).expect(401);
      const list = (await t.http().get('/v1/instances').set(a.admin).expect(200)).body.instances;
      expect(list.map((i: { id: string }) => i.id)).not.toContain(instance);
      await t
        .http()
        .patch(`/v1/instances/${instance}`)
        .set(a.admin)
        .send({ name: 'x' })
        .expect(404);
      await t.http().post(`/v1/instances/${instance}/proxy-keys`).set(a.admin).expect(404);
      await t.http().delete(`/v1/instances/${instance}`).set(a.admin).expect(404);

      const { rows } = await t.raw.query(
        `SELECT (SELECT count(*)::int FROM proxy_keys WHERE instance_id = $1 AND revoked_at IS NULL) AS live_keys,
                (SELECT deleted_at IS NOT NULL FROM instances WHERE id = $1) AS deleted`,
        [instance],
      );
      expect(rows).toEqual([{ live_keys: 0, deleted: true }]);
      const kept = await t.http().get(`/v1/workflows/${workflow.body.id}`).set(a.admin).expect(200);
      expect(kept.body).toMatchObject({ id: workflow.body.id, instance_id: instance });
    });
  });

  describe("the lifecycle migration's down", () => {
    /** The down in the owner's transaction, rolled back after `check` has read what it did. */
    async function undone(
      check: (owner: PoolClient) => Promise<void>,
      before?: (owner: PoolClient) => Promise<void>,
    ): Promise<void> {
      await inOwnerTransaction(t, 'rollback', async (owner, runner) => {
        await before?.(owner);
        await new TenantLifecycle1732408400000().down(runner);
        await check(owner);
      });
    }

    // Tests above leave tenants suspended; here they are active again for the down alone.
    const activateAll = async (owner: PoolClient) => {
      await owner.query(`ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY;
        UPDATE tenants SET status = 'active';
        ALTER TABLE tenants FORCE ROW LEVEL SECURITY`);
    };

    it('revokes every key with an end of life: none comes back to life', async () => {
      const s = await TenantSession.create(t, 'Undone');
      const ahead = new Date(Date.now() + 3600_000).toISOString();
      const keys = await Promise.all(
        [1, 2].map(async (i) => {
          const res = await t
            .http()
            .post('/v1/api-keys')
            .set(s.admin)
            .send({ name: `k${i}`, role: 'admin', expires_at: ahead })
            .expect(201);
          return res.body.id as string;
        }),
      );
      await t.raw.query(
        `UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = $1`,
        [keys[0]],
      );
      const forever = await t
        .http()
        .post('/v1/api-keys')
        .set(s.admin)
        .send({ name: 'forever', role: 'admin' })
        .expect(201);
      await undone(async (owner) => {
        await owner.query('ALTER TABLE api_keys NO FORCE ROW LEVEL SECURITY'); // to read them
        const { rows } = await owner.query(
          `SELECT id, revoked_at IS NOT NULL AS revoked, revoked_at < now() - interval '59 minutes' AS at_expiry
             FROM api_keys WHERE id = ANY($1)`,
          [[...keys, forever.body.id]],
        );
        const by = new Map(rows.map((r) => [r.id, r]));
        expect(by.get(keys[0])).toMatchObject({ revoked: true, at_expiry: true });
        expect(by.get(keys[1])).toMatchObject({ revoked: true, at_expiry: false });
        expect(by.get(forever.body.id)).toMatchObject({ revoked: false });
      }, activateAll);
    });

    it('is refused while a tenant is suspended', async () => {
      const s = await TenantSession.create(t, 'Suspended before the down');
      const status = (value: string) =>
        t
          .http()
          .patch(`/platform/v1/tenants/${s.tenantId}`)
          .set(PLATFORM)
          .send({ status: value })
          .expect(200);
      await status('suspended');
      try {
        await expect(undone(() => Promise.resolve())).rejects.toThrow(/a tenant is suspended/);
      } finally {
        await status('active');
      }
    });
  });
});
