import { Client } from 'pg';
import { TEST_SERVER_ENV, TestServer } from './test-server';

type Globals = { __HYDRACORE_PG__?: { stop(): Promise<void> }; __HYDRACORE_VERDICT__?: string };

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as Globals;
  if (globals.__HYDRACORE_PG__) {
    await globals.__HYDRACORE_PG__.stop(); // a throwaway cluster: its files go with it
  } else if (process.env[TEST_SERVER_ENV]) {
    await dropTestDatabases(JSON.parse(process.env[TEST_SERVER_ENV]) as TestServer);
  }
  if (globals.__HYDRACORE_VERDICT__) process.stderr.write(`\n${globals.__HYDRACORE_VERDICT__}\n`);
}

/** On a server given by DATABASE_URL, remove the databases this run created. */
async function dropTestDatabases(server: TestServer): Promise<void> {
  const admin = new Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'hydracore\\_test\\_%'`,
    );
    for (const { datname } of rows)
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
