import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthFailureBudget } from './auth-failures';
import { CredentialStore } from './credential.store';
import {
  DashboardAuthGuard,
  InternalProxyKeyGuard,
  PlatformKeyGuard,
  TenantAdminGuard,
} from './guards';
import { JwtStrategy } from './jwt.strategy';
import { KeyUseInterceptor } from './key-use.interceptor';

const guards = [DashboardAuthGuard, InternalProxyKeyGuard, TenantAdminGuard, PlatformKeyGuard];

@Global()
@Module({
  imports: [PassportModule],
  providers: [JwtStrategy, CredentialStore, AuthFailureBudget, KeyUseInterceptor, ...guards],
  exports: [CredentialStore, AuthFailureBudget, KeyUseInterceptor, ...guards],
})
export class AuthModule {}
