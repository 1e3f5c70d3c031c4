/**
 * npm run bench:side-by-side -- <build> <build> [list|get|create|event|approval|health|catalog]
 *
 * Two or more builds of the API (directories holding a `nest build` output: `dist`, or another
 * commit's build copied inside the repository so that node_modules resolve) under the same
 * workload, over several rounds. This machine's speed drifts by ±20% within minutes, more than
 * most single changes are worth; measured in the same run, both builds meet the same drift.
 *
 * The modes are `npm run bench`'s scenarios 1 (list), 2 (get), 3 (create: POST a workflow then
 * PATCH it), 4 (event: POST an event against 500 rules) and 5 (approval: request one), and the
 * request pipeline's health (GET /healthz) and catalog (GET /v1/rules/trigger-types), built by
 * the same code. Each build runs on a database of its own, made by its own migrations and seeded
 * alike, so an older build pays for no index or trigger a later migration added, and neither
 * build's rows grow the other's tables.
 *
 * SIDE_ORDER=together (the default) loads every build at once, 16 connections each: compare
 * the API's CPU per request. SIDE_ORDER=alternate loads one build at a time, 32 connections as
 * `npm run bench` does, the order reversed every round so a trend in the drift favours neither:
 * compare requests a second and the database's CPU per request as well.
 *
 * `baseline` in place of a build is the hand-written server of `npm run bench`
 * (bench/baseline-server.js of the first build) doing scenario 1's work: `list` mode only.
 */
import { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import autocannon, { Options } from 'autocannon';
import { Client } from 'pg';
import { freePort } from '../src/database/embedded';
import { adminToken, apiEnv, withBenchCluster } from './bench-database';
import { cpuMs, databaseCpuMs, log, productionFlags, startProcess, stopProcess } from './processes';
import { scenarios } from './scenarios';
import { seedRules, seedTenant } from './seed';

const ROUNDS = Number(process.env.SIDE_ROUNDS ?? 5);
const SECONDS = Number(process.env.SIDE_SECONDS ?? 6);
const ALTERNATE = process.env.SIDE_ORDER === 'alternate';
const CONNECTIONS = Number(process.env.SIDE_CONNECTIONS ?? (ALTERNATE ? 32 : 16));
/**
 * SIDE_ORDER=alternate starts each build's API afresh for each of its rounds and loads it for
 * SIDE_REWARM_SECONDS, unmeasured, right before the round. One process's CPU per request can
 * sit 20-40% above another's of the same build for its whole life (two copies of one build,
 * named side by side, measured 0.89-1.25× apart run after run), so a build measured on one
 * process a run carried that luck into every round. SIDE_FRESH=0 keeps one process a build.
 * A CPU profile (SIDE_CPU_PROF) is of one process a build.
 */
const REWARM_SECONDS = Number(process.env.SIDE_REWARM_SECONDS ?? 3);
/** SIDE_CPU_PROF=<dir>: each build's CPU profile in <dir>/<build's name>, with its request count. */
const PROFILES = process.env.SIDE_CPU_PROF;
const FRESH = ALTERNATE && !PROFILES && process.env.SIDE_FRESH !== '0';
/**
 * SIDE_STATEMENTS=1: each build's statements over the measured rounds, from pg_stat_statements
 * (every statement, functions' and triggers' included): calls and server time per request.
 */
const STATEMENTS = process.env.SIDE_STATEMENTS === '1';
/**
 * SIDE_FLAGS='<flags of build 1>|<flags of build 2>|…': Node flags for each build's process, so
 * that one build can be measured against itself under other runtime flags. The baseline takes
 * them too: `dist baseline baseline` with SIDE_FLAGS='||--require <file>' measures what a change
 * preloaded by <file> costs the hand-written server.
 */
const FLAGS = (process.env.SIDE_FLAGS ?? '').split('|').map((f) => f.split(/\s+/).filter(Boolean));
const STATEMENT_SETTINGS = [
  'shared_preload_libraries=pg_stat_statements',
  'pg_stat_statements.track=all',
];

const BASELINE = 'baseline';

/** Each mode and the scenario of `npm run bench` it drives. */
const MODES = {
  list: '1.',
  get: '2.',
  create: '3.',
  event: '4.',
  approval: '5.',
  health: 'p1.',
  catalog: 'p2.',
} as const;
type Mode = keyof typeof MODES;

interface Target {
  build: string;
  server: ChildProcess;
  /** Starts the build's API (or the baseline) on its database and port. */
  launch(): Promise<ChildProcess>;
  options: Options;
  apiMs: number[];
  dbMs: number[];
  rps: number[];
  /** Every request answered, warm-up included: what a profile's time is divided by. */
  requests: number;
  /** Answers other than 2xx and failed requests, by status (or `error`), over the measured rounds. */
  failures: Map<string, number>;
  /** The superuser's URL of the build's database, for its statement statistics. */
  adminUrl: string;
  /** Requests answered in the measured rounds. */
  measured: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[], digits = 0) =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode = (args.length > 2 && args[args.length - 1] in MODES ? args.pop() : 'list') as Mode;
  const builds = args.map((dir) => (dir === BASELINE ? dir : resolve(dir)));
  if (builds.length < 2 || builds[0] === BASELINE) {
    throw new Error(
      `usage: side-by-side <build> <build|baseline> [${Object.keys(MODES).join('|')}]`,
    );
  }
  if (builds.includes(BASELINE) && mode !== 'list') {
    throw new Error('the baseline does only the list: mode `list`');
  }

  await withBenchCluster(
    'hydracore-side',
    async (cluster) => {
      const servers: ChildProcess[] = [];
      const targets: Target[] = [];
      try {
        for (const [i, build] of builds.entries()) {
          const isBaseline = build === BASELINE;
          // The baseline reads the schema of the first build, as `npm run bench` runs it.
          const { url, adminUrl } = await cluster.database(
            `hydracore_side_${i}`,
            isBaseline ? builds[0] : build,
          );
          const db = new Client({ connectionString: url });
          await db.connect();
          const tenant = await seedTenant(db, 'Side by side', 2000);
          await seedRules(db, tenant.tenantId);
          await db.query('ANALYZE');
          await db.end();

          const port = await freePort();
          const profile = PROFILES
            ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILES, basename(build))]
            : [];
          const launch = () =>
            isBaseline
              ? startProcess(
                  [...(FLAGS[i] ?? []), ...profile, join(builds[0], 'bench/baseline-server.js')],
                  { ...apiEnv(url), PORT: String(port) },
                  'baseline ready',
                )
              : startProcess(
                  [
                    ...productionFlags(),
                    ...(FLAGS[i] ?? []),
                    ...profile,
                    join(build, 'src/main.js'),
                  ],
                  { ...apiEnv(url), PORT: String(port) },
                  'listening',
                );
          const server = await launch();
          servers.push(server);
          const token = adminToken;
          // `bare` only makes scenarios() list the pipeline's routes (health, catalog); none loads it.
          const urls = {
            api: `http://127.0.0.1:${port}`,
            baseline: `http://127.0.0.1:${port}/`,
            bare: 'unused',
          };
          const spec = scenarios(urls, tenant, token, tenant, tenant).find((s) =>
            isBaseline ? s.server === 'baseline' : s.name.startsWith(MODES[mode]),
          )!;
          targets.push({
            build: FLAGS[i]?.length ? `${build} ${FLAGS[i].join(' ')}` : build,
            server,
            launch,
            options: { ...spec.options, connections: CONNECTIONS },
            apiMs: [],
            dbMs: [],
            rps: [],
            requests: 0,
            failures: new Map(),
            adminUrl,
            measured: 0,
          });
        }
        log(
          `${mode}: ${targets.length} builds, ${ROUNDS} rounds of ${SECONDS} s, ` +
            `${CONNECTIONS} connections each, ` +
            (ALTERNATE ? 'one build at a time' : 'all at once') +
            (FRESH ? ', each round on a fresh process' : ''),
        );

        const measure = async (group: Target[]) => {
          const api = group.map((t) => cpuMs(t.server.pid!));
          const db = databaseCpuMs(cluster.pgDir);
          const results = await Promise.all(
            group.map((t) => autocannon({ ...t.options, duration: SECONDS })),
          );
          const dbMs = databaseCpuMs(cluster.pgDir) - db;
          group.forEach((t, i) => {
            const r = results[i];
            // Counted, not fatal: on a starved machine a round may end in a few 503s, and which
            // build meets them is luck; the summary says how many each met.
            const failed = Object.entries(r.statusCodeStats ?? {})
              .filter(([code]) => !code.startsWith('2'))
              .map(([code, stats]) => [code, stats?.count ?? 0] as const);
            if (r.errors + r.timeouts > 0) failed.push(['error', r.errors + r.timeouts]);
            for (const [code, count] of failed)
              t.failures.set(code, (t.failures.get(code) ?? 0) + count);
            t.apiMs.push((cpuMs(t.server.pid!) - api[i]) / r.requests.total);
            t.dbMs.push(dbMs / r.requests.total);
            t.rps.push(Math.round(r.requests.average));
            t.requests += r.requests.total;
            t.measured += r.requests.total;
          });
        };
        const describe = (t: Target, round: number) =>
          `${t.rps[round]} req/s, API ${t.apiMs[round].toFixed(2)} ms` +
          (ALTERNATE ? `, DB ${t.dbMs[round].toFixed(2)} ms` : '');

        const warm = async (t: Target, seconds = 5) => {
          t.requests += (await autocannon({ ...t.options, duration: seconds })).requests.total;
        };
        if (ALTERNATE) for (const t of targets) await warm(t);
        else await Promise.all(targets.map((t) => warm(t)));
        if (STATEMENTS) for (const t of targets) await resetStatements(t.adminUrl);
        for (let round = 0; round < ROUNDS; round++) {
          if (ALTERNATE) {
            const order = round % 2 === 0 ? targets : [...targets].reverse();
            for (const t of order) {
              if (FRESH) {
                await stopProcess(t.server);
                t.server = await t.launch();
                servers.push(t.server);
              }
              if (REWARM_SECONDS > 0) await warm(t, REWARM_SECONDS);
              await measure([t]);
            }
          } else {
            await measure(targets);
          }
          log(`  round ${round + 1}: ${targets.map((t) => describe(t, round)).join('  |  ')}`);
        }

        for (const t of targets) {
          log(
            `${t.build}: median ${median(t.rps)} req/s (${spread(t.rps)}), ` +
              `API ${median(t.apiMs).toFixed(2)} ms of CPU a request (${spread(t.apiMs, 2)})` +
              (ALTERNATE
                ? `, database ${median(t.dbMs).toFixed(2)} ms (${spread(t.dbMs, 2)})`
                : '') +
              (t.failures.size > 0
                ? `; not 2xx: ${[...t.failures].map(([code, n]) => `${n}× ${code}`).join(', ')}`
                : ''),
          );
        }
        if (STATEMENTS) for (const t of targets) await logStatements(t);
        const [first, ...rest] = targets;
        for (const t of rest) {
          const ratios = t.rps.map((rps, i) => rps / first.rps[i]);
          log(
            `${t.build} / ${first.build}: req/s medians ${(median(t.rps) / median(first.rps)).toFixed(2)}×; ` +
              `round by round median ${median(ratios).toFixed(2)}× (${spread(ratios, 2)})`,
          );
        }
      } finally {
        for (const server of servers) {
          if (server.exitCode === null && server.signalCode === null) await stopProcess(server);
        }
      }
      if (PROFILES) {
        for (const t of targets) {
          writeFileSync(
            join(PROFILES, basename(t.build.split(' ')[0]), 'requests.txt'),
            `${t.requests}\n`,
          );
        }
      }
    },
    STATEMENTS ? STATEMENT_SETTINGS : [],
  );
}

async function resetStatements(adminUrl: string): Promise<void> {
  const db = new Client({ connectionString: adminUrl });
  await db.connect();
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.query('SELECT pg_stat_statements_reset()');
  } finally {
    await db.end();
  }
}

/** The build's statements, the costliest first: calls and milliseconds per request. */
async function logStatements(t: Target): Promise<void> {
  const db = new Client({ connectionString: t.adminUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ calls: string; ms: number; query: string }>(
      `SELECT calls, total_exec_time AS ms, query FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT 25`,
    );
    log(`${t.build}: statements per request (${t.measured} requests)`);
    for (const row of rows) {
      const calls = (Number(row.calls) / t.measured).toFixed(2).padStart(6);
      const ms = (row.ms / t.measured).toFixed(3).padStart(7);
      log(`  ${calls} calls ${ms} ms  ${row.query.replace(/\s+/g, ' ').slice(0, 110)}`);
    }
  } finally {
    await db.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`side-by-side: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
