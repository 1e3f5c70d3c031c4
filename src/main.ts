import 'reflect-metadata';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApp } from './app.factory';
import { signDevToken } from './auth/tokens';
import { AppConfig } from './config/app-config';
import { Env, readEnvironment } from './config/environment';
import { appConfigSchema, startupSchema } from './config/schema';
import { dataSourceOptions, migrate } from './database/data-source';
import {
  EmbeddedDatabase,
  ensureDatabase,
  localSecrets,
  ownerUrl,
  startEmbeddedPostgres,
} from './database/embedded';
import { DemoTenant, ensureDemoTenant } from './demo/demo-seed';
import { DatabaseTarget, startupFailure } from './startup-failure';

const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  let embedded: EmbeddedDatabase | null = null;
  let app: NestFastifyApplication | null = null;
  let database: DatabaseTarget | null = null; // what a connection failure is about

  const stop = async (code: number) => {
    // In-flight requests get SHUTDOWN_GRACE_MS to finish; a client that never reads its
    // response must not hold the process (and its orchestrator) forever.
    setTimeout(() => process.exit(code || 1), SHUTDOWN_GRACE_MS).unref();
    await app?.close(); // stops accepting, lets in-flight requests finish, closes the pool
    await embedded?.stop();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop(0));
  }

  try {
    const { dataDir, databaseUrl } = readEnvironment(startupSchema);
    const defaults: Env = {};
    if (!databaseUrl) {
      // Embedded mode: a local PostgreSQL under the data directory, and secrets generated once
      // beside it standing in for JWT_SECRET and ENCRYPTION_KEY (the environment still wins).
      const secrets = localSecrets(dataDir);
      defaults.JWT_SECRET = secrets.jwtSecret;
      defaults.ENCRYPTION_KEY = secrets.encryptionKey;
      // Fail on bad configuration before starting anything.
      readEnvironment(appConfigSchema, {
        ...defaults,
        DATABASE_URL: 'postgres://check@localhost/check',
      });
      embedded = await startEmbeddedPostgres(join(dataDir, 'pg'), secrets);
      database = { url: embedded.adminUrl, variable: null };
      await ensureDatabase(embedded.adminUrl, 'hydracore');
      defaults.DATABASE_URL = ownerUrl(embedded, 'hydracore');
    }
    const config = readEnvironment(appConfigSchema, defaults);
    const ownDatabase = !embedded;
    const direct = config.migrationDatabaseUrl !== config.databaseUrl;
    database = {
      url: config.migrationDatabaseUrl,
      variable: ownDatabase ? (direct ? 'MIGRATION_DATABASE_URL' : 'DATABASE_URL') : null,
    };
    await runMigrations(config);
    database = { url: config.databaseUrl, variable: ownDatabase ? 'DATABASE_URL' : null };
    app = await createApp(config);
    const demo = embedded ? await ensureDemoTenant(app, dataDir) : null;
    database = null;
    await app.listen(config.port, '0.0.0.0');
    process.stdout.write(banner(config, demo));
  } catch (error) {
    const line = startupFailure(error, database);
    process.stderr.write(`hydracore: ${line ?? String((error as Error)?.stack ?? error)}\n`);
    await stop(1);
  }
}

async function runMigrations(config: AppConfig): Promise<void> {
  // One connection: the lock and the migrations share one transaction (data-source.ts).
  const dataSource = await new DataSource(
    dataSourceOptions(config.migrationDatabaseUrl, 1),
  ).initialize();
  try {
    await migrate(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

function banner(config: AppConfig, demo: DemoTenant | null): string {
  const base = `http://localhost:${config.port}`;
  const lines = [
    ``,
    `HydraCore API listening on ${base}`,
    `  Swagger UI:   ${base}/docs`,
    `  OpenAPI:      ${base}/openapi.json`,
  ];
  if (demo && config.jwt.secret) {
    const token = (role: 'admin' | 'member', customerId: string | null, sub: string) =>
      signDevToken(
        config.jwt.secret!,
        { sub, tenantId: demo.tenantId, customerId, role },
        config.jwt,
      );
    lines.push(
      ``,
      `Demo tenant (embedded PostgreSQL at ${config.databaseUrl.replace(/:[^:@/]+@/, ':***@')})`,
      `  tenant id:           ${demo.tenantId}`,
      `  customers:           ${demo.customerIds.join(', ')}`,
      `  instance id:         ${demo.instanceId}`,
      `  proxy key:           ${demo.proxyKey}`,
      `  tenant API key:      ${demo.apiKey}`,
      `  tenant-admin JWT:    ${token('admin', null, 'demo-tenant-admin')}`,
      `  customer-admin JWT:  ${token('admin', demo.customerIds[0], 'demo-customer-admin')}`,
      `  member JWT:          ${token('member', demo.customerIds[0], 'demo-member')}`,
      ``,
      `Try: curl -H "Authorization: Bearer <tenant-admin JWT>" ${base}/v1/customers`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

void main();
