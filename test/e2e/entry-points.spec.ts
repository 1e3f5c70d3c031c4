import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';
import { freePort } from '../../src/database/embedded';
import { adminQuery, testServer, withDatabase } from '../setup/test-server';

/* The built entry points (npm test builds first), as an operator runs them. */
const MAIN = resolve(__dirname, '../../dist/src/main.js');
const TOKEN = resolve(__dirname, '../../dist/scripts/token.js');

// Each run loads the whole server; on a busy two-core machine that alone can take ten seconds.
jest.setTimeout(120_000);

const SECRET = 'entry-points-secret-that-is-long-enough';
const configured = {
  JWT_SECRET: SECRET,
  ENCRYPTION_KEY: 'ab'.repeat(32),
  LOG_LEVEL: 'silent',
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  return new Promise((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}

/** Exit 1 with exactly this one line on stderr: no stack, nothing else. */
function expectOneLine(result: Run, line: string | RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
}

describe('entry points', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hydracore-entry-'));
    chmodSync(dir, 0o755); // the embedded server's own user must reach it when run as root
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the built entry points', () => {
    expect([existsSync(MAIN), existsSync(TOKEN)]).toEqual([true, true]);
  });

  describe('the server refuses bad configuration with one line naming the variable', () => {
    it.each([
      [
        { TRUST_PROXY: 'banana' },
        'hydracore: TRUST_PROXY must be a hop count (1-10), false, or proxy addresses/CIDRs ' +
          '(or loopback, linklocal, uniquelocal), comma-separated; got "banana"',
      ],
      // Shaped like an address, but Fastify's trustProxy would throw on it at start-up.
      [{ TRUST_PROXY: '10.0.0.0/33' }, /^hydracore: TRUST_PROXY must be .*got "10\.0\.0\.0\/33"$/],
      [{ PORT: 'eighty' }, 'hydracore: PORT must be an integer between 0 and 65535, got "eighty"'],
      [
        { DATABASE_URL: 'mysql://db/x' },
        'hydracore: DATABASE_URL must use one of postgres:, postgresql:',
      ],
    ])('%j', async (env, line) => {
      const result = await run(
        MAIN,
        [],
        { ...configured, HYDRACORE_DATA_DIR: 'data', ...env },
        dir,
      );
      expectOneLine(result, line);
      expect(existsSync(join(dir, 'data', 'pg'))).toBe(false); // refused before starting anything
    });

    it('reads .env in its working directory, the environment winning over it', async () => {
      writeFileSync(join(dir, '.env'), 'TRUST_PROXY=banana\nDB_POOL_SIZE=0\n');
      expectOneLine(
        await run(MAIN, [], { ...configured, DB_POOL_SIZE: '4' }, dir),
        /^hydracore: TRUST_PROXY must be .*got "banana"$/,
      );
    });
  });

  it('names the unreachable database by host and port, never its password', async () => {
    const port = await freePort(); // nothing listens there
    const result = await run(
      MAIN,
      [],
      { ...configured, DATABASE_URL: `postgres://hydracore:pa55word@127.0.0.1:${port}/hydracore` },
      dir,
    );
    expectOneLine(
      result,
      `hydracore: cannot reach the database at 127.0.0.1:${port} (DATABASE_URL): ECONNREFUSED`,
    );
    expect(result.stdout + result.stderr).not.toContain('pa55word');
  });

  it('says which port is taken', async () => {
    const server = testServer();
    const name = `hydracore_entry_${randomBytes(4).toString('hex')}`;
    const owner = new URL(server.ownerUrl).username;
    await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${server.template} OWNER "${owner}"`);
    const taken: Server = createServer();
    await new Promise<void>((done) => taken.listen(0, '0.0.0.0', done));
    const port = (taken.address() as { port: number }).port;
    try {
      const result = await run(
        MAIN,
        [],
        { ...configured, DATABASE_URL: withDatabase(server.ownerUrl, name), PORT: String(port) },
        dir,
      );
      expectOneLine(
        result,
        `hydracore: PORT ${port} is already in use by another process: stop it or set PORT to a free port`,
      );
    } finally {
      taken.close();
      await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`);
    }
  });

  // As root, the embedded server runs as the user postgres, which cannot enter a 0700
  // directory of root's (/root itself, for one).
  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('names the data directory the embedded server cannot reach, and what to do', async () => {
    const closed = join(dir, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    const dataDir = join(closed, 'data');
    const result = await run(MAIN, [], { HYDRACORE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, dir);
    expectOneLine(
      result,
      `hydracore: embedded PostgreSQL runs as the user postgres, which cannot enter ${closed}, so ` +
        `it cannot reach its data directory ${join(dataDir, 'pg')}: set HYDRACORE_DATA_DIR to a ` +
        'directory that user can reach (such as /var/lib/hydracore), or run as a normal user',
    );
  });

  describe('npm run token', () => {
    const tenant = '7c6f3a8e-1d2b-4c5d-8e9f-0a1b2c3d4e5f';

    it('signs with JWT_SECRET and JWT_ISSUER from .env in its working directory', async () => {
      writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\nJWT_ISSUER=https://id.example/\n`);
      const result = await run(TOKEN, ['--tenant', tenant, '--role', 'admin'], {}, dir);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const claims = jwt.verify(result.stdout.trim(), SECRET, { issuer: 'https://id.example/' });
      expect(claims).toMatchObject({ tenant_id: tenant, role: 'admin' });
    });

    it('refuses a bad variable with one line naming it', async () => {
      writeFileSync(join(dir, '.env'), 'JWT_SECRET=short\n');
      expectOneLine(
        await run(TOKEN, ['--tenant', tenant, '--role', 'admin'], {}, dir),
        'token: JWT_SECRET must be at least 32 characters',
      );
    });

    it('falls back to the secret under HYDRACORE_DATA_DIR, and says where it looked', async () => {
      const result = await run(
        TOKEN,
        ['--tenant', tenant, '--role', 'member'],
        { HYDRACORE_DATA_DIR: 'elsewhere' },
        dir,
      );
      expectOneLine(
        result,
        `token: JWT_SECRET is not set and there is no ${join(dir, 'elsewhere', 'secrets.json')} (run npm start once)`,
      );
    });
  });
});
