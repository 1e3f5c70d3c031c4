import type { Principal } from './principal';

/** Tokens remembered at most; past it the oldest goes first. */
const CAPACITY = 5_000;
/**
 * A token longer than this is verified every time rather than kept: with CAPACITY, at most
 * about 10 MB of the heap (ASCII strings take a byte a character), a usual token a tenth of it.
 */
const LONGEST = 2048;

/**
 * Bearer tokens this replica has verified, with the principal each named, until the token's `exp`.
 * Verifying a JWT through passport-jwt was about a sixth of a list request's CPU (measured side by
 * side), and a dashboard sends the same token with every call until it expires. Only for a shared
 * secret: with a JWKS a key can be withdrawn before a token signed with it expires, and the token
 * must then stop verifying at once. The key is the whole token, signature included, so only the
 * very text that verified is recognised.
 */
export class VerifiedTokens {
  private readonly tokens = new Map<string, { principal: Principal; exp: number }>();

  /** The token's principal, if this replica verified it and it has not expired since. */
  get(token: string): Principal | null {
    const known = this.tokens.get(token);
    if (!known) return null;
    // As jsonwebtoken judges expiry: whole seconds, expired from `exp` on.
    if (Math.floor(Date.now() / 1000) >= known.exp) {
      this.tokens.delete(token);
      return null;
    }
    return { ...known.principal };
  }

  remember(token: string, principal: Principal, exp: number): void {
    if (token.length > LONGEST) return;
    if (this.tokens.size >= CAPACITY) {
      this.tokens.delete(this.tokens.keys().next().value as string);
    }
    this.tokens.set(token, { principal: { ...principal }, exp });
  }
}
