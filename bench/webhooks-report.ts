/**
 * The webhook figures in words: the lines `npm run bench` logs, its target-table rows, and the
 * generated part of BENCHMARKS.md's "Webhooks" section. Also the run of those figures alone
 * (`BENCH_ONLY=webhooks npm run bench`, or `node dist/bench/webhooks-report.js [throughput|cost]`),
 * which keeps the rest of bench/results.json and of BENCHMARKS.md as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { withBenchDatabase } from './bench-database';
import { ROOT, log } from './processes';
import { WebhookBench, WebhookCost, WebhookThroughput, webhookBench } from './webhooks';

export function describeThroughput(t: WebhookThroughput): string {
  return (
    `${t.deliveriesPerSecond} deliveries/s (${t.delivered} of ${t.events} events delivered in ` +
    `${t.seconds} s, ${t.duplicates} twice, ${t.attemptedAgain} attempted again, ${t.unsigned} unsigned; events taken in at ` +
    `${t.eventsPerSecond}/s), API ${t.apiCpuMsPerDelivery} ms of CPU a delivery with its event ` +
    `(${t.apiCpuMsPerEventWithout} ms an event without endpoints), database ` +
    `${t.dbCpuMsPerDelivery} (${t.dbCpuMsPerEventWithout}) ms, lag p50 ${t.lagP50Ms} ms, ` +
    `p99 ${t.lagP99Ms} ms, max ${t.lagMaxMs} ms`
  );
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export function describeCost(c: WebhookCost): string {
  return (
    `scenario 3 ${c.without.rps} req/s without endpoints, ${c.with.rps} with ${c.endpoints} on * ` +
    `(${ratio(c.with.rps, c.without.rps)}); API ${c.without.apiCpuMsPerRequest} against ` +
    `${c.with.apiCpuMsPerRequest} ms of CPU a request (${ratio(c.with.apiCpuMsPerRequest, c.without.apiCpuMsPerRequest)}), ` +
    `${c.with.deliveries} deliveries, ${c.with.duplicates} twice, ${c.with.attemptedAgain} attempted again, drained within ${c.with.drainSeconds} s of the load`
  );
}

/** Rows for the target table that run.ts writes. */
export function webhookTargetRows(w: WebhookBench | undefined): string[] {
  const rows: string[] = [];
  const t = w?.throughput;
  if (t) {
    rows.push(
      `| Webhooks: deliveries/s to one fast local endpoint (${t.events.toLocaleString('en')} events) | ${t.deliveriesPerSecond}/s, ${t.apiCpuMsPerDelivery} ms API CPU each, lag p99 ${t.lagP99Ms} ms, ${t.duplicates} twice | a figure (no target) |`,
    );
  }
  const c = w?.cost;
  if (c) {
    rows.push(
      `| Webhooks: scenario 3 with ${c.endpoints} endpoints on \`*\` against none | ${ratio(c.with.rps, c.without.rps)} req/s, ${ratio(c.with.apiCpuMsPerRequest, c.without.apiCpuMsPerRequest)} API CPU a request | a figure (no target) |`,
    );
  }
  return rows;
}

const START = '<!-- webhooks:start -->';
const END = '<!-- webhooks:end -->';

function section(w: WebhookBench, when: string): string {
  const lines = [`Run ${when}.`, ''];
  const t = w.throughput;
  if (t) {
    lines.push(
      '| one endpoint, events POSTed by 32 connections | |',
      '| --- | --- |',
      `| events, delivered, delivered twice, attempted again, unsigned | ${t.events}, ${t.delivered}, ${t.duplicates}, ${t.attemptedAgain}, ${t.unsigned} |`,
      `| first event to last delivery | ${t.seconds} s: **${t.deliveriesPerSecond} deliveries/s** (events taken in at ${t.eventsPerSecond}/s) |`,
      `| API CPU a delivery, its event's intake included | ${t.apiCpuMsPerDelivery} ms (${t.apiCpuMsPerEventWithout} ms an event with no endpoint) |`,
      `| database CPU a delivery, intake included | ${t.dbCpuMsPerDelivery} ms (${t.dbCpuMsPerEventWithout} ms an event with no endpoint) |`,
      `| arrival less occurred_at | p50 ${t.lagP50Ms} ms, p99 ${t.lagP99Ms} ms, max ${t.lagMaxMs} ms |`,
      '',
    );
  }
  const c = w.cost;
  if (c) {
    const row = (name: string, s: WebhookCost['with']) =>
      `| ${name} | ${s.rps} | ${s.p99} | ${s.failed} | ${s.apiCpuMsPerRequestDuringLoad} | ${s.apiCpuMsPerRequest} | ${s.dbCpuMsPerRequest} |`;
    lines.push(
      `| scenario 3, ${c.rounds} rounds a side (ABBA) | req/s | p99 ms | errors + non-2xx | API CPU ms/req during the load | API CPU ms/req until delivered | database CPU ms/req until delivered |`,
      '| --- | --- | --- | --- | --- | --- | --- |',
      row('no endpoint', c.without),
      row(`${c.endpoints} endpoints on \`*\``, c.with),
      `| with / without | ${ratio(c.with.rps, c.without.rps)} | | | ${ratio(c.with.apiCpuMsPerRequestDuringLoad, c.without.apiCpuMsPerRequestDuringLoad)} | ${ratio(c.with.apiCpuMsPerRequest, c.without.apiCpuMsPerRequest)} | ${ratio(c.with.dbCpuMsPerRequest, c.without.dbCpuMsPerRequest)} |`,
      '',
      `${c.with.deliveries} deliveries, ${c.with.duplicates} delivered twice, ${c.with.attemptedAgain} attempted again; the last arrived at most ${c.with.drainSeconds} s after its load ended.`,
    );
  }
  return lines.join('\n');
}

/** Replaces the generated part of BENCHMARKS.md's "Webhooks" section, keeping its notes. */
export async function writeWebhookSection(w: WebhookBench, when: string): Promise<void> {
  const file = join(ROOT, 'BENCHMARKS.md');
  let doc = readFileSync(file, 'utf8');
  if (!doc.includes(START)) doc = `${doc.trimEnd()}\n\n## Webhooks\n\n${START}\n${END}\n`;
  doc = `${doc.slice(0, doc.indexOf(START) + START.length)}\n${section(w, when)}\n${doc.slice(doc.indexOf(END))}`;
  writeFileSync(file, await format(doc, { ...(await resolveConfig(file)), parser: 'markdown' }));
}

/** Measures the webhook figures alone; bench/results.json keeps the rest of the last full run. */
export async function webhooksAlone(only?: string): Promise<void> {
  const parts = { throughput: only !== 'cost', cost: only !== 'throughput' };
  const when = new Date().toISOString();
  const w = await withBenchDatabase('hydracore-webhooks', async ({ url, pgDir }) => {
    log('Webhooks…');
    const result = await webhookBench(url, pgDir, parts);
    if (result.throughput) log(`  ${describeThroughput(result.throughput)}`);
    if (result.cost) log(`  ${describeCost(result.cost)}`);
    return result;
  });
  const file = join(ROOT, 'bench/results.json');
  const report = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : {};
  writeFileSync(file, `${JSON.stringify({ ...report, webhooks: { when, ...w } }, null, 2)}\n`);
  await writeWebhookSection(w, when);
  log('Wrote the webhooks of bench/results.json and of BENCHMARKS.md');
}

if (require.main === module) {
  webhooksAlone(process.argv[2]).catch((error: unknown) => {
    process.stderr.write(`webhooks: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
