import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** The owner role exactly as the README's "Your own PostgreSQL" creates it. */
export const OWNER = { user: 'hydracore', password: 'deployment-owner-secret' };

export const INSTALL_HINT =
  'The deployment suite needs the Debian packages postgresql (server binaries under ' +
  '/usr/lib/postgresql/<version>/bin) and pgbouncer: ' +
  'apt-get install -y --no-install-recommends postgresql-15 pgbouncer';

export interface Binaries {
  pgBin: string;
  pgbouncer: string;
}

/** The newest Debian PostgreSQL server and PgBouncer, or one plain sentence of what is missing. */
export function findBinaries(): Binaries {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const pgbouncer = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p));
  const missing = [
    ...(versions.length ? [] : ['PostgreSQL server (initdb under /usr/lib/postgresql)']),
    ...(pgbouncer ? [] : ['pgbouncer']),
  ];
  if (missing.length) throw new Error(`${INSTALL_HINT} (missing: ${missing.join(', ')})`);
  return { pgBin: join(root, versions[0], 'bin'), pgbouncer: pgbouncer! };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL and PgBouncer refuse to run as root: as root they run as the `postgres` system user
 * (which the Debian package creates) in a directory it owns; otherwise as whoever runs the suite.
 */
const asRoot = process.getuid?.() === 0;
function command(file: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}
function run(file: string, args: string[]): string {
  const [cmd, argv] = command(file, args);
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Cluster {
  dir: string;
  pgPort: number;
  bouncerPort: number;
  /** The owner through PgBouncer (transaction mode) and directly, for one database. */
  pooledUrl(database: string): string;
  directUrl(database: string): string;
  /** A fresh database owned by the owner role, as the README creates it. */
  createDatabase(name: string): Promise<void>;
  /** As the superuser, over the cluster's socket. */
  admin<T>(database: string, work: (client: Client) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A throwaway Debian PostgreSQL cluster on a free port and PgBouncer in front of it in
 * transaction mode, authenticating clients from a userlist, as production runs them.
 */
export async function startCluster(): Promise<Cluster> {
  const { pgBin, pgbouncer } = findBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'hydracore-deployment-'));
  if (asRoot) {
    const [uid, gid] = ['-u', '-g'].map((flag) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })),
    );
    chownSync(dir, uid, gid);
  }
  const [pgPort, bouncerPort] = [await freePort(), await freePort()];
  const data = join(dir, 'pg');
  run(join(pgBin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
  ]);
  const settings = [
    `-p ${pgPort}`,
    `-k ${dir}`,
    `-c listen_addresses=127.0.0.1`,
    `-c fsync=off`,
    `-c synchronous_commit=off`,
    `-c full_page_writes=off`,
    `-c max_connections=200`,
  ].join(' ');
  run(join(pgBin, 'pg_ctl'), [
    '-D',
    data,
    '-o',
    settings,
    '-l',
    join(dir, 'pg.log'),
    '-w',
    'start',
  ]);

  const admin = async <T>(database: string, work: (client: Client) => Promise<T>) => {
    const client = new Client({ host: dir, port: pgPort, user: 'postgres', database });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  // The README's owner role: may create the runtime roles, nothing more.
  await admin('postgres', (c) =>
    c.query(
      `CREATE ROLE ${OWNER.user} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS PASSWORD '${OWNER.password}'`,
    ),
  );

  writeFileSync(join(dir, 'userlist.txt'), `"${OWNER.user}" "${OWNER.password}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${pgPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${bouncerPort}`,
      "unix_socket_dir = ''",
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      'default_pool_size = 20',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  if (asRoot) {
    for (const file of ['userlist.txt', 'pgbouncer.ini']) {
      execFileSync('chown', ['postgres:postgres', join(dir, file)]);
    }
  }
  const [cmd, argv] = command(pgbouncer, [join(dir, 'pgbouncer.ini')]);
  const bouncer: ChildProcess = spawn(cmd, argv, { stdio: 'ignore' });
  await waitForPort(bouncerPort, bouncer);

  const url = (port: number, database: string) =>
    `postgres://${OWNER.user}:${OWNER.password}@127.0.0.1:${port}/${database}`;
  return {
    dir,
    pgPort,
    bouncerPort,
    pooledUrl: (database) => url(bouncerPort, database),
    directUrl: (database) => url(pgPort, database),
    createDatabase: async (name) => {
      await admin('postgres', (c) => c.query(`CREATE DATABASE ${name} OWNER ${OWNER.user}`));
    },
    admin,
    stop: () => {
      bouncer.kill('SIGTERM');
      try {
        run(join(pgBin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return Promise.resolve();
    },
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pgbouncer did not listen within 10 s');
}
