/**
 * What the webhook benchmarks (bench/webhooks.ts) drive and read: an API with http and private
 * (loopback) destinations allowed, the receivers (bench/webhook-receiver.ts, a child process),
 * the database, and the CPU time the API and PostgreSQL use.
 */
import { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { freePort } from '../src/database/embedded';
import { adminToken, apiEnv } from './bench-database';
import {
  ROOT,
  cpuMs,
  databaseCpuMs,
  productionFlags,
  profileFlags,
  startProcess,
  stopProcess,
} from './processes';
import { BENCH_EVENT_PAYLOAD, SeededTenant } from './seed';
import type { ReceivedAtPath } from './webhook-receiver';

export const CONNECTIONS = 32;
/** The longest the run waits for deliveries to arrive once their events are in. */
const DRAIN_TIMEOUT_MS = 300_000;

/** What each receiver path got, by path. */
export type Stats = Record<string, ReceivedAtPath>;

export class WebhookHarness {
  readonly receiver: string;

  private constructor(
    readonly db: Client,
    readonly api: string,
    private readonly apiPid: number,
    private readonly pgDir: string,
    receiverPort: number,
  ) {
    this.receiver = `http://127.0.0.1:${receiverPort}`;
  }

  /** Starts the receivers and the API against `url`, runs `work`, and stops them. */
  static async run<T>(
    url: string,
    pgDir: string,
    work: (h: WebhookHarness) => Promise<T>,
  ): Promise<T> {
    const receiverPort = await freePort();
    const receiver = await startProcess(
      [join(ROOT, 'dist/bench/webhook-receiver.js')],
      { PORT: String(receiverPort) },
      'receiver ready',
    );
    const port = await freePort();
    let api: ChildProcess | null = null;
    const db = new Client({ connectionString: url });
    db.on('error', () => undefined); // a failure surfaces from the query that met it
    try {
      api = await startProcess(
        [...productionFlags(), ...profileFlags(), join(ROOT, 'dist/src/main.js')],
        {
          ...apiEnv(url),
          WEBHOOK_ALLOW_HTTP: 'true',
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
          PORT: String(port),
        },
        'listening',
      );
      await db.connect();
      return await work(
        new WebhookHarness(db, `http://127.0.0.1:${port}`, api.pid!, pgDir, receiverPort),
      );
    } finally {
      await db.end();
      if (api) await stopProcess(api);
      await stopProcess(receiver);
    }
  }

  token(t: SeededTenant): string {
    return adminToken(t);
  }

  cpu() {
    return { api: cpuMs(this.apiPid), db: databaseCpuMs(this.pgDir) };
  }

  since(before: { api: number; db: number }) {
    const now = this.cpu();
    return { api: now.api - before.api, db: now.db - before.db };
  }

  /** `amount` events POSTed by CONNECTIONS connections, as fast as they go. */
  async postEvents(t: SeededTenant, amount: number): Promise<void> {
    const r = await autocannon({
      url: `${this.api}/internal/v1/instances/${t.instanceId}/events`,
      method: 'POST',
      headers: { authorization: `Bearer ${t.proxyKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        event: 'skill.invoked',
        customer_id: t.customerIds[0],
        payload: BENCH_EVENT_PAYLOAD,
      }),
      connections: CONNECTIONS,
      amount,
    });
    if (r.non2xx + r.errors + r.timeouts > 0) {
      throw new Error(`events: ${r.non2xx} non-2xx answers, ${r.errors + r.timeouts} errors`);
    }
  }

  /** An endpoint of the tenant on `*`, at this path of the receivers. */
  async endpoint(t: SeededTenant, path: string): Promise<void> {
    const res = await fetch(`${this.api}/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: this.token(t), 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${this.receiver}${path}`, event_types: ['*'] }),
    });
    if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
  }

  async stats(method = 'GET', lags = false): Promise<Stats> {
    const res = await fetch(`${this.receiver}/stats${lags ? '?lags' : ''}`, { method });
    return (await res.json()) as Stats;
  }

  async inTenant<T>(tenantId: string, sql: string): Promise<T> {
    await this.db.query('BEGIN');
    try {
      await this.db.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      const { rows } = await this.db.query(sql, [tenantId]);
      return rows[0] as T;
    } finally {
      await this.db.query('COMMIT');
    }
  }

  async fannedOut(t: SeededTenant): Promise<number> {
    const row = await this.inTenant<{ n: string } | undefined>(
      t.tenantId,
      `SELECT fanned_out_through AS n FROM webhook_fanout_cursors WHERE tenant_id = $1`,
    );
    return Number(row?.n ?? 0);
  }

  /** The tenant's deliveries attempted more than once, and those not (yet) succeeded. */
  async attempts(t: SeededTenant): Promise<{ again: number; unfinished: number }> {
    const row = await this.inTenant<{ again: string; unfinished: string }>(
      t.tenantId,
      `SELECT count(*) FILTER (WHERE attempts > 1) AS again,
              count(*) FILTER (WHERE status <> 'succeeded') AS unfinished
         FROM webhook_deliveries WHERE tenant_id = $1`,
    );
    return { again: Number(row.again), unfinished: Number(row.unfinished) };
  }

  async eventCount(t: SeededTenant): Promise<number> {
    const row = await this.inTenant<{ n: string }>(
      t.tenantId,
      `SELECT count(*) AS n FROM events WHERE tenant_id = $1`,
    );
    return Number(row.n);
  }

  async until(done: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${what}: not done in ${DRAIN_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
