import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, from, switchMap } from 'rxjs';
import { OWN_TRANSACTIONS } from '../database/own-transactions';
import { CredentialStore } from './credential.store';
import { requestPrincipal } from './principal';

/**
 * Writes an API key's last use inside the request's transaction (RequestScope calls it within
 * the transaction), so the stamp commits with the request or not at all. The lookup has
 * already said whether the stamp is due: most requests cost nothing here.
 */
@Injectable()
export class KeyUseInterceptor implements NestInterceptor {
  constructor(
    private readonly credentials: CredentialStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const principal = requestPrincipal(context);
    if (
      principal?.kind !== 'api_key' ||
      !principal.lastUseStale ||
      this.reflector.get<boolean>(OWN_TRANSACTIONS, context.getHandler())
    ) {
      return next.handle();
    }
    return from(this.credentials.stampApiKeyUse(principal.tenantId, principal.subject)).pipe(
      switchMap(() => next.handle()),
    );
  }
}
