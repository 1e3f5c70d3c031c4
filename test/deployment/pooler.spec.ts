import { MIGRATIONS } from '../../migrations';
import { behindTransactionPooler } from '../../src/database/data-source';
import { Cluster, freePort, startCluster } from './cluster';
import { Replica, snapshotBuild, startReplica } from './replicas';
import { smoke } from './smoke';

/**
 * How long three replicas starting together on two cores may take to all answer /readyz:
 * measured 36–50 s with the machine's load average near 20 (other work beside the suite). The
 * issue's hang was forever.
 */
const READY_WITHIN_MS = 90_000;
const ROUNDS = 5;

describe('behind PgBouncer in transaction mode', () => {
  let cluster: Cluster;
  let main: string;
  const running: Replica[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    main = snapshotBuild(cluster.dir);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop(5_000)));
    await cluster?.stop();
  });

  /**
   * Three replicas of the README's set-up at once: DATABASE_URL through PgBouncer with prepared
   * statements off, and MIGRATION_DATABASE_URL direct (`direct`), or every connection, the
   * migrations' too, through PgBouncer (the set-up the issue saw hang).
   */
  async function threeReplicas(database: string, direct: boolean, extra = {}) {
    const env = {
      DATABASE_URL: cluster.pooledUrl(database),
      DB_PREPARED_STATEMENTS: 'false',
      ...(direct ? { MIGRATION_DATABASE_URL: cluster.directUrl(database) } : {}),
      ...extra,
    };
    const replicas = await Promise.all(
      [0, 1, 2].map(async () => startReplica(main, await freePort(), cluster.dir, env)),
    );
    running.push(...replicas);
    const ms = await Promise.all(replicas.map((r) => r.ready(READY_WITHIN_MS)));
    return { replicas, ms };
  }

  async function appliedMigrations(database: string): Promise<number> {
    return cluster.admin(database, async (c) =>
      Number((await c.query('SELECT count(*) AS n FROM schema_migrations')).rows[0].n),
    );
  }

  it('is a transaction-mode pooler: one client is answered by several server processes', async () => {
    await cluster.createDatabase('hc_probe');
    expect(await behindTransactionPooler(cluster.pooledUrl('hc_probe'))).toBe(true);
    expect(await behindTransactionPooler(cluster.directUrl('hc_probe'))).toBe(false);
  });

  let last: Replica[] = [];
  // Odd rounds as the README sets it up; even ones with the migrations through PgBouncer too.
  const rounds = Array.from({ length: ROUNDS }, (_, i) => [i + 1, i % 2 === 0] as const);
  it.each(rounds)(
    'round %i of three replicas started together on a new database (direct migrations: %s): all ready, none fails or hangs',
    async (round, direct) => {
      const database = `hc_round_${round}`;
      await cluster.createDatabase(database);
      const { replicas, ms } = await threeReplicas(database, direct);
      process.stdout.write(`round ${round}: ready in ${ms.join(', ')} ms\n`);
      expect(await appliedMigrations(database)).toBe(MIGRATIONS.length);
      if (round < ROUNDS) {
        expect(await Promise.all(replicas.map((r) => r.stop()))).toEqual([0, 0, 0]);
      } else {
        last = replicas;
      }
    },
    READY_WITHIN_MS + 40_000,
  );

  it("then the API's main routes, concurrently through the three, answer no 5xx", async () => {
    expect(last).toHaveLength(3);
    const started = Date.now();
    const { answers, tally, retries } = await smoke(last.map((r) => r.base));
    process.stdout.write(
      `smoke: ${answers.length} requests in ${Date.now() - started} ms, ${retries} busy answers retried\n${JSON.stringify(tally, null, 1)}\n`,
    );
    const failed = answers.filter((a) => a.status >= 500 || a.status === 0);
    expect(failed.slice(0, 5)).toEqual([]);
    // The smoke means something only if its requests did what they asked.
    expect(answers.filter((a) => a.status >= 300).slice(0, 5)).toEqual([]);
    expect(answers.length).toBeGreaterThan(300);
    for (const replica of last) expect(replica.output()).not.toMatch(/"level":(50|60)/);
  });

  it('a replica left with prepared statements on finds the pooler at start, says so once, and answers no 5xx', async () => {
    const replica = startReplica(main, await freePort(), cluster.dir, {
      DATABASE_URL: cluster.pooledUrl(`hc_round_${ROUNDS}`),
      MIGRATION_DATABASE_URL: cluster.directUrl(`hc_round_${ROUNDS}`),
    });
    running.push(replica);
    await replica.ready(READY_WITHIN_MS);
    const { answers } = await smoke([replica.base], 4, 2);
    expect(answers.filter((a) => a.status >= 300).slice(0, 5)).toEqual([]);
    const said = replica.output().match(/transaction-mode pooler: prepared statements are off/g);
    expect(said).toHaveLength(1);
  });
});
