import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApp } from './app.factory';
import { signDevToken } from './auth/tokens';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { dataSourceOptions, migrate } from './database/data-source';
import {
  EmbeddedDatabase,
  ensureDatabase,
  localSecrets,
  ownerUrl,
  startEmbeddedPostgres,
} from './database/embedded';
import { DemoTenant, ensureDemoTenant } from './demo/demo-seed';

const DATA_DIR = resolve(process.env.HYDRACORE_DATA_DIR ?? '.data');
const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env'); // the environment still wins over the file
  const env = { ...process.env };
  let embedded: EmbeddedDatabase | null = null;
  let app: NestFastifyApplication | null = null;

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
    if (!env.DATABASE_URL) {
      // Embedded mode: a local PostgreSQL under .data/ and secrets generated once beside it.
      const secrets = localSecrets(DATA_DIR);
      env.JWT_SECRET ??= secrets.jwtSecret;
      env.ENCRYPTION_KEY ??= secrets.encryptionKey;
      loadConfig({ ...env, DATABASE_URL: 'postgres://check@localhost/check' }); // fail before starting anything
      embedded = await startEmbeddedPostgres(join(DATA_DIR, 'pg'), secrets);
      await ensureDatabase(embedded.adminUrl, 'hydracore');
      env.DATABASE_URL = ownerUrl(embedded, 'hydracore');
    }
    const config = loadConfig(env);
    await runMigrations(config);
    app = await createApp(config);
    const demo = embedded ? await ensureDemoTenant(app, DATA_DIR) : null;
    await app.listen(config.port, '0.0.0.0');
    process.stdout.write(banner(config, demo));
  } catch (error) {
    process.stderr.write(
      `hydracore: ${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`,
    );
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
