import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, readEnvironment } from './config/environment';
import { migrationSchema } from './config/schema';
import { dataSourceOptions, migrate, revertLastMigration } from './database/data-source';

/**
 * `npm run migration:run` and `migration:revert`: compiled with the app, so a production install
 * (`npm ci --omit=dev`: no Nest CLI, no ts-node) runs them with node alone, in a release step
 * before the new replicas start. The same lock and single transaction as a start's migrations,
 * on MIGRATION_DATABASE_URL (else DATABASE_URL), read from the environment and .env as the
 * server reads them.
 */
async function main(command: string | undefined): Promise<number> {
  if (command !== 'run' && command !== 'revert') {
    process.stderr.write('usage: node dist/src/migrate.js run|revert\n');
    return 2;
  }
  const config = readEnvironment(migrationSchema);
  const dataSource = await new DataSource(
    dataSourceOptions(config.migrationDatabaseUrl, 1),
  ).initialize();
  try {
    if (command === 'run') {
      const applied = await migrate(dataSource);
      const lines = applied.map((name) => `applied ${name}`);
      process.stdout.write(`${(lines.length ? lines : ['no migrations pending']).join('\n')}\n`);
    } else {
      const reverted = await revertLastMigration(dataSource);
      process.stdout.write(reverted ? `reverted ${reverted}\n` : 'no migration to revert\n');
    }
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv[2]).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.message : String((error as Error).stack);
    process.stderr.write(`migrate: ${message}\n`);
    process.exitCode = 1;
  },
);
