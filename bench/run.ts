/**
 * npm run bench: the built API in production mode against an embedded PostgreSQL, seeded with
 * realistic data, driven by autocannon; beside it, in the same run, the node:http + pg baseline
 * and the rule-engine comparison. Writes bench/results.json and the table in BENCHMARKS.md.
 */
import { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon, { Options, Result } from 'autocannon';
import { Client } from 'pg';
import { format, resolveConfig } from 'prettier';
import { freePort } from '../src/database/embedded';
import { adminToken, apiEnv, withBenchDatabase } from './bench-database';
import {
  ROOT,
  cpuMs,
  databaseCpuMs,
  log,
  peakRssMb,
  productionFlags,
  profileFlags,
  startProcess,
  stopProcess,
} from './processes';
import { NoisyNeighbour, noisyNeighbour, seedNoisyTenant } from './noisy-neighbour';
import { pipelineTable, pipelineTargets } from './pipeline-report';
import { compareRuleEngines } from './rule-engine';
import { scenarios } from './scenarios';
import { SeededTenant, seedRules, seedTenant } from './seed';
import { FeedThroughput, describeFeedThroughput, feedThroughput } from './feed-throughput';
import { TimerLag, describeTimerLag, timerLag } from './timer-lag';
import { WebhookBench, webhookBench } from './webhooks';
import {
  describeCost,
  describeThroughput,
  webhookTargetRows,
  webhooksAlone,
  writeWebhookSection,
} from './webhooks-report';

const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = 3;
const IDLE_SAMPLE_MS = 2000;

interface Scenario {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU time (user + system) the server process spent per request answered. */
  cpuMsPerRequest: number;
  /** The server's CPU, ms a second, in the 2 s before the scenario's warm-up: its idle work. */
  idleCpuMsPerS: number;
  dbCpuMsPerRequest: number;
}

/** The API's pid once started: each scenario's line shows the peak RSS so far. */
let apiPid: number | undefined;

async function load(
  name: string,
  options: Partial<Options> & { url: string },
  server: ChildProcess,
  pgDir: string,
): Promise<Scenario> {
  // What the server spends with no request at all (background jobs): a share of every figure.
  const idleBefore = cpuMs(server.pid!);
  await new Promise((done) => setTimeout(done, IDLE_SAMPLE_MS));
  const idleMsPerS = Math.round((1000 * (cpuMs(server.pid!) - idleBefore)) / IDLE_SAMPLE_MS);
  await autocannon({ ...options, connections: CONNECTIONS, duration: WARMUP_S });
  const cpuBefore = cpuMs(server.pid!);
  const dbBefore = databaseCpuMs(pgDir);
  const r: Result = await autocannon({
    ...options,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  const cpu = cpuMs(server.pid!) - cpuBefore;
  const dbCpu = databaseCpuMs(pgDir) - dbBefore;
  const scenario = {
    name,
    requests: r.requests.total,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    cpuMsPerRequest: Math.round((1000 * cpu) / Math.max(r.requests.total, 1)) / 1000,
    idleCpuMsPerS: idleMsPerS,
    dbCpuMsPerRequest: Math.round((100 * dbCpu) / Math.max(r.requests.total, 1)) / 100,
  };
  log(
    `  ${name}: ${scenario.rps} req/s, p50 ${scenario.p50} ms, p99 ${scenario.p99} ms, errors ${scenario.errors}, non-2xx ${scenario.non2xx}, server CPU ${scenario.cpuMsPerRequest} ms/request (idle before: ${idleMsPerS} ms/s), database CPU ${scenario.dbCpuMsPerRequest} ms/request` +
      (apiPid ? `, API peak RSS so far ${peakRssMb(apiPid)} MB` : ''),
  );
  return scenario;
}

async function main(): Promise<void> {
  // BENCH_ONLY=webhooks measures the webhook figures alone (see bench/webhooks-report.ts).
  if (process.env.BENCH_ONLY === 'webhooks') return webhooksAlone();
  const started = Date.now();
  await withBenchDatabase('hydracore-bench', async ({ url, adminUrl, pgDir }) => {
    let api: ChildProcess | null = null;
    let baseline: ChildProcess | null = null;
    let bare: ChildProcess | null = null;
    try {
      log('Seeding: 10 tenants × 2,000 workflows, one of 1,000 and one of 100,000, 500 rules…');
      const db = new Client({ connectionString: url });
      db.on('error', () => undefined); // a failure surfaces from the query that met it
      await db.connect();
      const tenants: SeededTenant[] = [];
      for (let i = 0; i < 10; i++) tenants.push(await seedTenant(db, `Tenant ${i}`, 2000));
      const small = await seedTenant(db, 'Scale 1k', 1000);
      const large = await seedTenant(db, 'Scale 100k', 100_000);
      await seedRules(db, tenants[0].tenantId);
      const noisy = await seedNoisyTenant(db);
      const admin = new Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query('VACUUM ANALYZE');
      const pgVersion = (await admin.query<{ server_version: string }>('SHOW server_version'))
        .rows[0].server_version;
      await admin.end();
      await db.end();
      log(`Seeded in ${Math.round((Date.now() - started) / 1000)} s`);

      const env = apiEnv(url);
      const apiPort = await freePort();
      api = await startProcess(
        [...productionFlags(), ...profileFlags(), join(ROOT, 'dist/src/main.js')],
        { ...env, PORT: String(apiPort) },
        'listening',
      );
      apiPid = api.pid;
      const basePort = await freePort();
      baseline = await startProcess(
        [join(ROOT, 'dist/bench/baseline-server.js')],
        { ...env, PORT: String(basePort) },
        'baseline ready',
      );
      const barePort = await freePort();
      bare = await startProcess(
        [...productionFlags(), join(ROOT, 'dist/bench/bare-nest.js')],
        { PORT: String(barePort) },
        'bare ready',
      );

      const token = adminToken;
      const t0 = tenants[0];
      const urls = {
        api: `http://127.0.0.1:${apiPort}`,
        baseline: `http://127.0.0.1:${basePort}/`,
        bare: `http://127.0.0.1:${barePort}`,
      };

      log(
        `\nLoad: autocannon, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${DURATION_S} s per scenario`,
      );
      const results: Scenario[] = [];
      for (const { name, server, options } of scenarios(urls, t0, token, small, large)) {
        const answering = { api, baseline, bare }[server];
        results.push(await load(name, options, answering, pgDir));
      }
      log('\nNoisy neighbour: tenant A alone, then beside tenant B…');
      const neighbours = await noisyNeighbour(urls.api, tenants[1], noisy, token, DURATION_S);
      log('Noisy neighbour, the control: tenant A alone, then beside a busy but harmless B…');
      const control = await noisyNeighbour(urls.api, tenants[1], noisy, token, DURATION_S, 'reads');
      const rss = peakRssMb(api.pid!);
      log(`\nPeak RSS of the API process: ${rss} MB`);
      // The figures below start APIs of their own on this database. Left running, this one
      // would work on their events too: number and evaluate them, and claim their webhook
      // deliveries only to fail them (it allows no http destination), holding them for the
      // retry schedule.
      await stopProcess(api);
      api = null;
      await stopProcess(baseline);
      baseline = null;
      await stopProcess(bare);
      bare = null;
      log('Rule engine: 500 rules, one event, in process…');
      const engines = await compareRuleEngines();
      log(
        `  ours ${engines.ours} events/s, json-rules-engine ${engines.jsonRulesEngine} events/s (matched ${engines.matched.join(' / ')})`,
      );
      log('Timers: 10,000 workflows due in the same minute, an API with its timers on…');
      const timers = await timerLag(url);
      log(`  ${describeTimerLag(timers)}`);
      log('Feed: one pager through a backlog of 100,000 events…');
      const feed = await feedThroughput(url);
      log(`  ${describeFeedThroughput(feed)}`);
      log('Webhooks: deliveries a second to one endpoint, and scenario 3 with three endpoints…');
      const webhooks = await webhookBench(url, pgDir);
      log(`  ${describeThroughput(webhooks.throughput!)}`);
      log(`  ${describeCost(webhooks.cost!)}`);

      const report = {
        when: new Date().toISOString(),
        machine: {
          cores: cpus().length,
          cpu: cpus()[0]?.model ?? 'unknown',
          node: process.version,
          postgres: pgVersion,
        },
        settings: {
          connections: CONNECTIONS,
          warmupSeconds: WARMUP_S,
          durationSeconds: DURATION_S,
          poolSize: Number(env.DB_POOL_SIZE),
          apiNodeFlags: productionFlags().join(' '),
        },
        scenarios: results,
        noisyNeighbour: neighbours,
        noisyControl: control,
        ruleEngine: engines,
        timers,
        feed,
        webhooks,
        peakRssMb: rss,
        runSeconds: Math.round((Date.now() - started) / 1000),
      };
      writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeTable(report);
      await writeWebhookSection(webhooks, report.when);
      log(`\nWrote bench/results.json and BENCHMARKS.md in ${report.runSeconds} s`);
    } finally {
      if (api) await stopProcess(api);
      if (baseline) await stopProcess(baseline);
      if (bare) await stopProcess(bare);
    }
  });
}

type Report = {
  when: string;
  machine: { cores: number; cpu: string; node: string; postgres: string };
  settings: {
    connections: number;
    warmupSeconds: number;
    durationSeconds: number;
    poolSize: number;
    apiNodeFlags: string;
  };
  scenarios: Scenario[];
  noisyNeighbour: NoisyNeighbour;
  /** The same with B busy but harmless (BLoad 'reads'): what sharing the machine costs A. */
  noisyControl: NoisyNeighbour;
  ruleEngine: { ours: number; jsonRulesEngine: number };
  timers: TimerLag;
  feed: FeedThroughput;
  webhooks?: WebhookBench;
  peakRssMb: number;
};

/** Replaces the generated part of BENCHMARKS.md (between the markers), keeping the notes. */
async function writeTable(r: Report): Promise<void> {
  const byName = (prefix: string) => r.scenarios.find((s) => s.name.startsWith(prefix))!;
  // By name: the pipeline's scenarios run before it.
  const base = byName('baseline');
  const nn = r.noisyNeighbour;
  const ratio = (s: Scenario) => (s.rps / base.rps).toFixed(2);
  const rows = r.scenarios.map(
    (s) =>
      `| ${s.name} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.errors} | ${s.non2xx} | ${s.cpuMsPerRequest} | ${s.dbCpuMsPerRequest} | ${s === base ? '1.00' : ratio(s)}× |`,
  );
  const s1 = byName('1.');
  const s2 = byName('2.');
  const s4 = byName('4.');
  const s6a = byName('6a.');
  const s6b = byName('6b.');
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const targets = [
    `| Scenario 1 ≥ 1.0× baseline req/s, p99 no worse | ${ratio(s1)}×, p99 ${s1.p99} vs ${base.p99} ms | ${met(s1.rps >= base.rps && s1.p99 <= base.p99)} |`,
    `| Scenario 2 ≥ 0.9× baseline req/s | ${ratio(s2)}× | ${met(s2.rps >= 0.9 * base.rps)} |`,
    `| Scenario 4 ≥ 0.8× scenario 1 req/s | ${(s4.rps / s1.rps).toFixed(2)}× | ${met(s4.rps >= 0.8 * s1.rps)} |`,
    `| Rule engine ≥ 20× json-rules-engine | ${(r.ruleEngine.ours / r.ruleEngine.jsonRulesEngine).toFixed(1)}× (${r.ruleEngine.ours} vs ${r.ruleEngine.jsonRulesEngine} events/s) | ${met(r.ruleEngine.ours >= 20 * r.ruleEngine.jsonRulesEngine)} |`,
    `| p99 at 100,000 workflows ≤ 2× p99 at 1,000 | ${s6b.p99} vs ${s6a.p99} ms | ${met(s6b.p99 <= 2 * s6a.p99)} |`,
    `| Zero errors and non-2xx everywhere | ${r.scenarios.reduce((n, s) => n + s.errors + s.non2xx, 0)} | ${met(r.scenarios.every((s) => s.errors + s.non2xx === 0))} |`,
    `| Peak RSS ≤ 300 MB | ${r.peakRssMb} MB | ${met(r.peakRssMb <= 300)} |`,
    `| workflow.due within 5 s, exactly once (10,000 due in one minute) | p99 ${r.timers.p99Ms} ms, max ${r.timers.maxMs} ms; ${r.timers.announced} of ${r.timers.workflows} announced, ${r.timers.duplicates} twice, ${r.timers.early} early | ${met(r.timers.maxMs < 5000 && r.timers.announced === r.timers.workflows && r.timers.duplicates + r.timers.early === 0)} |`,
    `| Event feed: one pager through ${r.feed.events.toLocaleString('en')} events of ${r.feed.eventBytes} bytes, limit ${r.feed.limit} | ${r.feed.eventsPerSecond} events/s, page p99 ${r.feed.pageP99Ms} ms${r.feed.gapFree ? '' : ', **not gap-free**'} | a figure (no target) |`,
    ...webhookTargetRows(r.webhooks),
    ...pipelineTargets(r.scenarios, met),
    `| Noisy neighbour: A's p99 beside B ≤ 2× alone, 0 errors for A | ${nn.beside.p99} vs ${nn.alone.p99} ms, ${nn.beside.errors + nn.beside.non2xx} errors; beside a harmless busy B ${r.noisyControl.beside.p99} vs ${r.noisyControl.alone.p99} ms | ${met(nn.beside.p99 <= 2 * nn.alone.p99 && nn.beside.errors + nn.beside.non2xx === 0)} |`,
  ];
  const side = (name: string, s: NoisyNeighbour['alone']) =>
    `| ${name} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.errors} | ${s.non2xx} |`;
  const neighbours = [
    '| noisy neighbour (concurrently) | req/s | p50 ms | p99 ms | errors | non-2xx |',
    '| --- | --- | --- | --- | --- | --- |',
    side("A's GET /v1/workflows, 100 req/s steady, alone", nn.alone),
    side("A's GET /v1/workflows, 100 req/s steady, beside B", nn.beside),
    side("B's PATCH of one workflow (60 connections: a row-lock storm)", nn.storm),
    side("B's pages of 70 workflows at the 256 KiB state cap (4 connections)", nn.heavy),
    side("the control: A's GET /v1/workflows alone", r.noisyControl.alone),
    side("the control: A's GET /v1/workflows beside B's harmless reads", r.noisyControl.beside),
    side("the control: B's GET of one small workflow (60 connections)", r.noisyControl.storm),
  ];
  const byRound = (n: NoisyNeighbour) =>
    n.rounds.map((round) => `${round.alone} → ${round.beside}`).join(', ');
  const noisyNote = [
    `Noisy neighbour: ${nn.rounds.length} rounds of ${r.settings.durationSeconds} s alone then ${r.settings.durationSeconds} s beside B, A's latencies pooled over the rounds of each side (\`bench/noisy-neighbour.ts\` says why). A's p99 alone → beside B, ms, round by round: ${byRound(nn)}; the control's: ${byRound(r.noisyControl)}.`,
  ];
  const pipeline = pipelineTable(r.scenarios);
  const table = [
    `Run ${r.when} on ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}.`,
    `autocannon, ${r.settings.connections} connections, ${r.settings.warmupSeconds} s warm-up then ${r.settings.durationSeconds} s per scenario; API pool ${r.settings.poolSize}, API started with \`node ${r.settings.apiNodeFlags}\` as in \`npm run start:prod\`; load generator, API, baseline and database share the machine.`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | errors | non-2xx | server CPU ms/req | database CPU ms/req | vs baseline |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...neighbours,
    '',
    ...noisyNote,
    '',
    ...(pipeline.length > 0 ? [...pipeline, ''] : []),
    '| target | measured | |',
    '| --- | --- | --- |',
    ...targets,
  ].join('\n');
  const file = join(ROOT, 'BENCHMARKS.md');
  let doc: string;
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n';
  }
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  doc = `${doc.slice(0, doc.indexOf(start) + start.length)}\n${table}\n${doc.slice(doc.indexOf(end))}`;
  // Aligned columns, so the file reads as a table in plain text and diffs stay small.
  writeFileSync(file, await format(doc, { ...(await resolveConfig(file)), parser: 'markdown' }));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
