import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { TestApp } from './app';

/**
 * Another replica on the test app's database, with its own settings (its background jobs on,
 * for one), whose providers a test reaches with `get`. The caller closes it.
 */
export function startAppOnSameDatabase(
  t: TestApp,
  settings: Partial<AppConfig> = {},
): Promise<NestFastifyApplication> {
  return createApp({ ...t.config, ...settings });
}
