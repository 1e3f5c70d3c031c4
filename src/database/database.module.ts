import {
  DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { choosePreparedStatements, dataSourceOptions } from './data-source';
import { TenantDb } from './tenant-db';

@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** The entities are the app's to list (src/entities.ts): this layer imports no domain. */
  static forRoot(entities: DataSourceOptions['entities']): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            await choosePreparedStatements(
              config.databaseUrl,
              config.dbPreparedStatements,
              (line) => new Logger('Database').warn(line),
            );
            return new DataSource(
              dataSourceOptions(config.databaseUrl, config.dbPoolSize, entities),
            ).initialize();
          },
        },
        TenantDb,
      ],
      exports: [DataSource, TenantDb],
    };
  }

  /** Runs after the HTTP server has drained, so in-flight requests keep their connections. */
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
