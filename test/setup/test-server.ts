import { Client } from 'pg';

/** Where the test PostgreSQL is; written by the global setup, read by every test file. */
export interface TestServer {
  adminUrl: string;
  /** Connection URL of the role that owns test databases (the app connects as it). */
  ownerUrl: string;
  template: string;
}

export const TEST_SERVER_ENV = 'HYDRACORE_TEST_SERVER';

export function testServer(): TestServer {
  const raw = process.env[TEST_SERVER_ENV];
  if (!raw) throw new Error('the Jest global setup did not run');
  return JSON.parse(raw) as TestServer;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function adminQuery(sql: string, params: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: testServer().adminUrl });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}
