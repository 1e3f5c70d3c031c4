/**
 * The request pipeline's cost in `npm run bench`: CPU per request of the bare framework's
 * /healthz beside HydraCore's /healthz, its static catalog, a single read and the list, and the
 * targets set on them. The earlier figures the write scenarios are held to are the table's
 * before that work (run 2026-11-26T01:15Z): 311, 381 and 464 req/s for scenarios 3, 4 and 5.
 */
export interface PipelineScenario {
  name: string;
  rps: number;
  cpuMsPerRequest: number;
}

const EARLIER_RPS: Record<string, number> = { '3.': 311, '4.': 381, '5.': 464 };

const find = (all: readonly PipelineScenario[], prefix: string) =>
  all.find((s) => s.name.startsWith(prefix));

/** The CPU table: each route's server CPU per request and its multiple of the bare app's. */
export function pipelineTable(all: readonly PipelineScenario[]): string[] {
  const bare = find(all, 'p0.');
  if (!bare) return [];
  const row = (label: string, s: PipelineScenario | undefined) =>
    s
      ? `| ${label} | ${s.cpuMsPerRequest} | ${(s.cpuMsPerRequest / bare.cpuMsPerRequest).toFixed(1)}× | ${s.rps} |`
      : `| ${label} | – | – | – |`;
  return [
    '| request pipeline: server CPU per request | ms | vs bare | req/s |',
    '| --- | --- | --- | --- |',
    row('bare NestJS + Fastify, GET /healthz', bare),
    row('GET /healthz', find(all, 'p1.')),
    row('GET /v1/rules/trigger-types (static catalog)', find(all, 'p2.')),
    row('GET /v1/workflows/{id} (single read, scenario 2)', find(all, '2.')),
    row('GET /v1/workflows (list, scenario 1)', find(all, '1.')),
  ];
}

/** Target rows: /healthz against the bare app, the reads against the baseline, the writes. */
export function pipelineTargets(
  all: readonly PipelineScenario[],
  met: (ok: boolean) => string,
): string[] {
  const bare = find(all, 'p0.');
  const health = find(all, 'p1.');
  const base = find(all, 'baseline');
  const s1 = find(all, '1.');
  const s2 = find(all, '2.');
  if (!bare || !health || !base || !s1 || !s2) return [];
  const healthRatio = health.cpuMsPerRequest / bare.cpuMsPerRequest;
  const rows = [
    `| /healthz CPU ≤ 3× the bare app's | ${health.cpuMsPerRequest} vs ${bare.cpuMsPerRequest} ms (${healthRatio.toFixed(1)}×) | ${met(healthRatio <= 3)} |`,
    `| Scenario 1 ≥ 0.85× baseline req/s | ${(s1.rps / base.rps).toFixed(2)}× | ${met(s1.rps >= 0.85 * base.rps)} |`,
    `| Scenario 2 ≥ 1.0× baseline req/s | ${(s2.rps / base.rps).toFixed(2)}× | ${met(s2.rps >= base.rps)} |`,
  ];
  for (const [prefix, earlier] of Object.entries(EARLIER_RPS)) {
    const s = find(all, prefix);
    if (!s) continue;
    rows.push(
      `| Scenario ${prefix.slice(0, -1)} ≥ 1.25× its earlier ${earlier} req/s | ${s.rps} req/s (${(s.rps / earlier).toFixed(2)}×) | ${met(s.rps >= 1.25 * earlier)} |`,
    );
  }
  return rows;
}
