import type { Principal } from './principal';

/** Keys remembered at most (a few hundred bytes each); past it the longest remembered goes. */
const CAPACITY = 10_000;

/**
 * What this replica has learned of keys that authenticated: the principal each names, by the
 * key's digest. What a key names (tenant, instance, role, customer) never changes once issued;
 * whether it still works does, and is read again inside each request's transaction
 * (CredentialStore), so remembering it saves a lookup's own transaction, not a check.
 */
export class KnownKeys {
  private readonly keys = new Map<string, Principal>();

  get(digest: string): Principal | undefined {
    return this.keys.get(digest);
  }

  remember(digest: string, principal: Principal): void {
    this.keys.delete(digest);
    if (this.keys.size >= CAPACITY) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(digest, principal);
  }

  forget(digest: string): void {
    this.keys.delete(digest);
  }
}
