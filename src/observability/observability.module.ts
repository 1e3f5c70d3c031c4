import { DynamicModule, Global, Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { Collectors } from './collectors';
import { Meters } from './meters/meters';
import { MetricsController } from './metrics.controller';

/**
 * GET /metrics and what it reads. `Meters` is made by createApp (its request hooks write to it
 * before Nest exists) and handed in, so every module can inject the same one.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(meters: Meters): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [OutboxModule, WebhooksModule],
      controllers: [MetricsController],
      providers: [{ provide: Meters, useValue: meters }, Collectors],
      exports: [Meters],
    };
  }
}
