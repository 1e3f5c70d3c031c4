import { DataSource } from 'typeorm';
import { readEnvironment } from './config/environment';
import { migrationSchema } from './config/schema';
import { dataSourceOptions } from './database/data-source';
import { ENTITIES } from './entities';

/**
 * For the TypeORM CLI's `migration:generate`, a development tool: the same settings, read the
 * same way (.env, then the environment), as `npm run migration:run` (src/migrate.ts) reads them.
 * A bad or missing setting is one line naming the variable.
 */
const { migrationDatabaseUrl } = readEnvironment(migrationSchema);
export default new DataSource(dataSourceOptions(migrationDatabaseUrl, 1, ENTITIES));
