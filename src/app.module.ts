import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { rateLimitModule } from './auth/rate-limit.guard';
import { WireExceptionFilter } from './common/exception.filter';
import { HANDLER_SCOPE } from './common/wire.interceptor';
import { WirePipe } from './common/wire.pipe';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { RequestContextModule } from './database/request-context.module';
import { IdempotencyInterceptor } from './database/idempotent';
import { TenantTransactionInterceptor } from './database/tenant-transaction.interceptor';
import { DirectoryModule } from './directory/directory.module';
import { PersonsModule } from './persons/persons.module';
import { ENTITIES } from './entities';
import { ChannelsModule } from './channels/channels.module';
import { HealthController } from './health/health.controller';
import { Meters } from './observability/meters/meters';
import { ObservabilityModule } from './observability/observability.module';
import { WorkerBindingsModule } from './worker-bindings/worker-bindings.module';
import { WorkflowsModule } from './workflows/workflows.module';
import { RulesModule } from './rules/rules.module';
import { ApprovalsModule } from './approvals/approvals.module';
import { EventsModule } from './events/events.module';
import { EventLogModule } from './event-log/event-log.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { RequestScope } from './request-scope';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, meters: Meters): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        RequestContextModule, // ClsService without ClsModule's no-op global guard and interceptor
        ObservabilityModule.forRoot(meters),
        rateLimitModule(config),
        DatabaseModule.forRoot(ENTITIES),
        AuthModule,
        DirectoryModule,
        WorkerBindingsModule,
        PersonsModule,
        ChannelsModule,
        WorkflowsModule,
        RulesModule,
        ApprovalsModule,
        EventsModule,
        EventLogModule,
        WebhooksModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_PIPE, useClass: WirePipe },
        { provide: APP_FILTER, useClass: WireExceptionFilter },
        // No global guard or interceptor: the routes name the rate limit and WireInterceptor
        // (the auth decorators, PublicRoute), so /healthz goes through neither. What the
        // interceptor runs around the handler, the tenant transaction among it, is this one provider.
        TenantTransactionInterceptor,
        IdempotencyInterceptor,
        { provide: HANDLER_SCOPE, useClass: RequestScope },
      ],
      exports: [APP_CONFIG, HANDLER_SCOPE],
    };
  }
}
