import { startTestApp, TestApp } from '../helpers/app';
import { TenantSession } from '../helpers/factories';

/**
 * A change rewrites its workflow's whole history, so it is charged to its tenant's pace for
 * the history as well as for its answer: a tenant changing a workflow of a large history back
 * to back slows itself, not the others.
 */
describe('changes are charged for the history they rewrite', () => {
  let t: TestApp;

  beforeAll(async () => {
    // The slowest pace allowed (1 MiB/s, 32 MiB from rest), and a wait of 0.3 s before a tenant
    // in debt is told to retry.
    t = await startTestApp({
      TENANT_DOCUMENT_BYTES_PER_SECOND: String(1024 * 1024),
      DB_STATEMENT_TIMEOUT_MS: '300',
    });
  });
  afterAll(() => t.close());

  /** A tenant of its own (a rested pace) and one workflow of `entries` 1.3 KB history entries. */
  async function workflow(entries: number) {
    const b = await TenantSession.create(t, 'B');
    const [customer, instance] = [await b.customer(), await b.instance()];
    const key = (await b.proxyKey(instance)).headers;
    const base = `/internal/v1/instances/${instance}/workflows`;
    const created = await t
      .http()
      .post(base)
      .set(key)
      .send({ customer_id: customer, workflow_type: 'lead', title: 't' })
      .expect(201);
    await t.raw.query(
      `UPDATE workflows SET history = (
         SELECT jsonb_agg(jsonb_build_object('action', 'noted', 'note', repeat('x', 1300)))
           FROM generate_series(1, $2))
        WHERE id = $1`,
      [created.body.id, entries],
    );
    return { path: `${base}/${created.body.id}`, key };
  }

  /** Changes of `w` one after another, until one is refused or `max` have been sent. */
  async function untilRefused(w: Awaited<ReturnType<typeof workflow>>, max: number) {
    const statuses: number[] = [];
    while (statuses.length < max && statuses.at(-1) !== 429) {
      const res = await t
        .http()
        .patch(w.path)
        .set(w.key)
        .send({ action: 'noted', workflow_state: { n: statuses.length } });
      statuses.push(res.status);
    }
    return statuses;
  }

  it('holds back a tenant rewriting a 400 KB history, after about 16 changes', async () => {
    // Each change: 400 KB of history charged four times over, and its answer once, 2 MB.
    // Charged for its answer alone, the burst would last 80 changes.
    const statuses = await untilRefused(await workflow(300), 40);
    expect(statuses.at(-1)).toBe(429);
    const answered = statuses.filter((status) => status === 200).length;
    expect({ answered, inRange: answered >= 12 && answered <= 30 }).toEqual({
      answered,
      inRange: true,
    });
  }, 60_000);

  it('leaves a tenant changing a small workflow alone', async () => {
    expect(await untilRefused(await workflow(3), 40)).toEqual(Array(40).fill(200));
  }, 60_000);
});
