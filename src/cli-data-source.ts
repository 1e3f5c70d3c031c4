import { DataSource } from 'typeorm';
import { dataSourceOptions } from './database/data-source';
import { ENTITIES } from './entities';

/**
 * For the TypeORM CLI (npm run migration:*). It needs DATABASE_URL: in embedded mode `npm start`
 * applies pending migrations itself and prints the URL of its database.
 */
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error(
    'DATABASE_URL is not set (npm start prints the embedded database URL; it also migrates on start)',
  );
}
export default new DataSource(dataSourceOptions(url, 1, ENTITIES));
