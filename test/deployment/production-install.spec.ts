import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MIGRATIONS } from '../../migrations';
import { Cluster, startCluster } from './cluster';
import { BUILD_DIR } from './replicas';

const run = promisify(execFile);
const ALL = MIGRATIONS.map((m) => new m().name);

/**
 * What a release step has: the package files and the build, installed without dev dependencies
 * (no Nest CLI). Packages come from npm's cache when it has them.
 */
describe('migrations from a production install (npm ci --omit=dev)', () => {
  let cluster: Cluster;
  let app: string;

  beforeAll(async () => {
    cluster = await startCluster();
    app = mkdtempSync(join(tmpdir(), 'hydracore-release-'));
    for (const file of ['package.json', 'package-lock.json']) {
      cpSync(join(BUILD_DIR, file), join(app, file));
    }
    cpSync(join(BUILD_DIR, 'dist'), join(app, 'dist'), { recursive: true });
    await run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      {
        cwd: app,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }, 300_000);
  afterAll(async () => {
    if (app) rmSync(app, { recursive: true, force: true });
    await cluster?.stop();
  });

  /** `npm run <script>` in the install, with only the environment a release step sets. */
  const npm = async (script: string, env: Record<string, string>) => {
    try {
      const { stdout } = await run('npm', ['run', '--silent', script], {
        cwd: app,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      });
      return stdout;
    } catch (error) {
      const { stdout, stderr } = error as { stdout: string; stderr: string };
      throw new Error(`npm run ${script} failed:\n${stdout}${stderr}`);
    }
  };

  const applied = (database: string) =>
    cluster.admin(database, async (c) =>
      (await c.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY id')).rows.map(
        (r) => r.name,
      ),
    );

  it('has no dev dependencies: no Nest CLI (what `npm run migration:run` used to need)', () => {
    expect(existsSync(join(app, 'node_modules/.bin/nest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@nestjs/cli'))).toBe(false);
  });

  it('npm run migration:run migrates a new database on MIGRATION_DATABASE_URL; revert undoes the last', async () => {
    await cluster.createDatabase('hc_release');
    // DATABASE_URL through PgBouncer, as the replicas have it; the migrations go direct.
    const env = {
      DATABASE_URL: cluster.pooledUrl('hc_release'),
      MIGRATION_DATABASE_URL: cluster.directUrl('hc_release'),
    };
    expect(await npm('migration:run', env)).toBe(ALL.map((name) => `applied ${name}\n`).join(''));
    expect(await applied('hc_release')).toEqual(ALL);
    expect(await npm('migration:run', env)).toBe('no migrations pending\n');

    expect(await npm('migration:revert', env)).toBe(`reverted ${ALL[ALL.length - 1]}\n`);
    expect(await applied('hc_release')).toEqual(ALL.slice(0, -1));
    expect(await npm('migration:run', env)).toBe(`applied ${ALL[ALL.length - 1]}\n`);
  });

  it('says what is missing, in one line, without a database URL', async () => {
    await expect(npm('migration:run', {})).rejects.toThrow(/DATABASE_URL/);
  });
});
