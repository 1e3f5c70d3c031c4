import { sign } from 'jsonwebtoken';
import type { Role } from './roles';

export interface TokenClaims {
  sub: string;
  tenantId: string;
  customerId?: string | null;
  role: Role;
}

export interface TokenOptions {
  issuer?: string | null;
  audience?: string | null;
  expiresInSeconds?: number;
}

/** An HS256 development token (npm run token, the demo seed, tests). */
export function signDevToken(
  secret: string,
  claims: TokenClaims,
  options: TokenOptions = {},
): string {
  const payload: Record<string, unknown> = { tenant_id: claims.tenantId, role: claims.role };
  if (claims.customerId) payload.customer_id = claims.customerId;
  return sign(payload, secret, {
    algorithm: 'HS256',
    subject: claims.sub,
    expiresIn: options.expiresInSeconds ?? 12 * 3600,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
}
