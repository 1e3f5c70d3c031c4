import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/database/embedded';

const MAIN = resolve(__dirname, '../../dist/src/main.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  field: (label: string) => string;
}

/** `npm start` as a newcomer runs it: the built server, nothing configured. */
async function start(dataDir: string, port: number): Promise<Started> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HYDRACORE_DATA_DIR: dataDir,
    PORT: String(port),
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no banner within 60 s:\n${out}`)), 60_000);
    const poll = setInterval(() => {
      if (out.includes('Try: curl')) {
        clearInterval(poll);
        clearTimeout(timer);
        done();
      }
    }, 100);
    child.once('exit', (code) => fail(new Error(`exited with ${code}:\n${out}`)));
  });
  const field = (label: string) => {
    const match = new RegExp(`${label}:\\s+(\\S+)`).exec(out);
    if (!match) throw new Error(`no ${label} in:\n${out}`);
    return match[1];
  };
  return { child, output: () => out, field };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    child.once('exit', (code) => done(code));
    child.kill('SIGTERM');
  });
}

describe('npm start (embedded PostgreSQL, demo tenant)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hydracore-start-'));
  chmodSync(dataDir, 0o755);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints working credentials, serves /docs, stops cleanly and starts again on the same data', async () => {
    expect(existsSync(MAIN)).toBe(true); // npm test builds first
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = await start(dataDir, port);
    try {
      const docs = await fetch(`${base}/docs`);
      expect(docs.status).toBe(200);
      const assets = [
        ...(await docs.text()).matchAll(/(?:src|href)="\.?\/?(?:docs\/)?([\w.-]+\.(?:js|css))"/g),
      ].map((m) => m[1]);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        const res = await fetch(`${base}/docs/${asset}`);
        await res.arrayBuffer(); // an unread body is a request still in flight, which shutdown waits for
        expect([asset, res.status]).toEqual([asset, 200]);
      }

      const admin = { Authorization: `Bearer ${first.field('tenant-admin JWT')}` };
      const customers = await fetch(`${base}/v1/customers`, { headers: admin });
      expect(customers.status).toBe(200);
      expect(((await customers.json()) as { count: number }).count).toBe(2);
      const member = { Authorization: `Bearer ${first.field('member JWT')}` };
      expect((await fetch(`${base}/v1/customers`, { headers: member })).status).toBe(403);
      const apiKey = { 'X-Api-Key': first.field('tenant API key') };
      expect((await fetch(`${base}/v1/customers`, { headers: apiKey })).status).toBe(200);

      const proxy = { Authorization: `Bearer ${first.field('proxy key')}` };
      const instanceId = first.field('instance id');
      expect(
        (await fetch(`${base}/internal/v1/instances/${instanceId}`, { headers: proxy })).status,
      ).toBe(200);
      const other = '00000000-0000-4000-8000-000000000000';
      expect(
        (await fetch(`${base}/internal/v1/instances/${other}`, { headers: proxy })).status,
      ).toBe(403);
    } finally {
      expect(await stop(first.child)).toBe(0);
    }
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false); // the database stopped too

    const second = await start(dataDir, port);
    try {
      expect(second.field('tenant id')).toBe(first.field('tenant id'));
      expect(second.field('proxy key')).toBe(first.field('proxy key'));
      expect(second.output()).not.toMatch(/initdb|creating directory/i);
      // Nest's line per module and per route is debug: the banner is what a start shows.
      const beforeBanner = second.output().split('HydraCore API listening')[0];
      expect(beforeBanner).not.toMatch(/Mapped \{|RoutesResolver|InstanceLoader/);
      expect(beforeBanner.split('\n').filter(Boolean).length).toBeLessThan(10);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  }, 120_000);
});

describe('start-up with bad configuration', () => {
  function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((done) => child.once('exit', (code) => done({ code, output })));
  }

  it.each([
    [{ PORT: 'eighty' }, 'hydracore: PORT must be an integer between 0 and 65535, got "eighty"'],
    [
      { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db', ENCRYPTION_KEY: 'ab'.repeat(32) },
      'hydracore: JWT_SECRET is required unless JWT_JWKS_URL is set',
    ],
  ])('stops with one line naming the variable: %j', async (env, line) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hydracore-badconfig-'));
    try {
      const { code, output } = await run({ ...env, HYDRACORE_DATA_DIR: dataDir });
      expect(code).toBe(1);
      expect(output.trim()).toBe(line);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
