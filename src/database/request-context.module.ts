import { Global, Module } from '@nestjs/common';
import { ClsService, ClsServiceManager } from 'nestjs-cls';

/**
 * nestjs-cls's ClsService, the request context tenant transactions are kept in (TenantDb opens
 * it around each one), without `ClsModule.forRoot`: that also mounts a global guard and a global
 * interceptor, no-ops unless told to mount, which every request still went through (the
 * interceptor costs a deferred Observable and an `AsyncResource.bind` of Nest's each time).
 */
@Global()
@Module({
  providers: [{ provide: ClsService, useValue: ClsServiceManager.getClsService() }],
  exports: [ClsService],
})
export class RequestContextModule {}
