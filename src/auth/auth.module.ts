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

const guards = [DashboardAuthGuard, InternalProxyKeyGuard, TenantAdminGuard, PlatformKeyGuard];

@Global()
@Module({
  imports: [PassportModule],
  providers: [JwtStrategy, CredentialStore, AuthFailureBudget, ...guards],
  exports: [CredentialStore, AuthFailureBudget, ...guards],
})
export class AuthModule {}
