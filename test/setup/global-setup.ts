import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrate } from '../../src/database/data-source';
import { ensureOwnerRole, ownerUrl, startEmbeddedPostgres } from '../../src/database/embedded';
import { TEST_SERVER_ENV, TestServer, withDatabase } from './test-server';

const TEMPLATE = 'hydracore_test_template';

/**
 * Starts one PostgreSQL for the whole run (embedded unless DATABASE_URL is set), migrates a
 * template database once; each test file then clones its own database from it.
 */
export default async function globalSetup(): Promise<void> {
  let server: TestServer;
  if (process.env.DATABASE_URL) {
    const url = process.env.DATABASE_URL;
    const name = new URL(url).pathname.slice(1);
    // Test setup drops and creates databases: refuse a server that is not plainly a test one.
    if (!/test/i.test(name)) {
      throw new Error(
        `refusing to run tests against "${name}": DATABASE_URL must name a test database`,
      );
    }
    server = { adminUrl: url, ownerUrl: url, template: TEMPLATE };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'hydracore-test-'));
    chmodSync(dir, 0o755); // as root, PostgreSQL runs as the postgres user and must enter it
    const secrets = { postgresPassword: 'test-superuser', ownerPassword: 'test-owner' };
    const db = await startEmbeddedPostgres(join(dir, 'pg'), secrets, false);
    (globalThis as { __HYDRACORE_PG__?: { stop(): Promise<void> } }).__HYDRACORE_PG__ = db;
    await ensureOwnerRole(db.adminUrl, secrets.ownerPassword);
    server = { adminUrl: db.adminUrl, ownerUrl: ownerUrl(db, 'postgres'), template: TEMPLATE };
  }
  await createTemplate(server);
  process.env[TEST_SERVER_ENV] = JSON.stringify(server);
}

/** (Re)creates the server's template database and migrates it (the fault suite uses it too). */
export async function createTemplate(server: TestServer): Promise<void> {
  const admin = new Client({ connectionString: server.adminUrl });
  await admin.connect();
  const owner = new URL(server.ownerUrl).username;
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${server.template} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${server.template} OWNER "${owner}"`);
  } finally {
    await admin.end();
  }
  const dataSource = await new DataSource(
    dataSourceOptions(withDatabase(server.ownerUrl, server.template), 2),
  ).initialize();
  try {
    await migrate(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
