import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { isUUID } from 'class-validator';
import { decode } from 'jsonwebtoken';
import { ExtractJwt, Strategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import { unauthorized } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { JWKS_ALGORITHMS, JwksKeys } from './jwks-keys';
import { Principal } from './principal';
import { ROLES, Role } from './roles';

function strategyOptions(config: AppConfig): StrategyOptionsWithoutRequest {
  const common = {
    jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
    ignoreExpiration: false,
    issuer: config.jwt.issuer ?? undefined,
    audience: config.jwt.audience ?? undefined,
  };
  // One family of algorithms per deployment: `alg: none` and HS/RS confusion never verify.
  if (config.jwt.jwksUrl) {
    const keys = new JwksKeys({
      url: config.jwt.jwksUrl,
      refreshMs: config.jwt.jwksRefreshMs,
      cooldownMs: config.jwt.jwksCooldownMs,
    });
    return {
      ...common,
      algorithms: JWKS_ALGORITHMS,
      // Errors reach the guard as passport's failure info: a 401, or a 503 when the provider
      // cannot be asked about a key we do not have.
      secretOrKeyProvider: (_request, rawJwt: string, done) => {
        const header = decode(rawJwt, { complete: true })?.header;
        const kid: unknown = header?.kid;
        if (!header || (kid !== undefined && typeof kid !== 'string')) {
          return done(unauthorized('Invalid or expired token'));
        }
        keys.keyFor(kid ?? null, header.alg).then(
          (key) => done(null, key as unknown as string),
          (error: unknown) => done(error),
        );
      },
    };
  }
  // A KeyObject made once: handed a string, jsonwebtoken re-derives the key on every verify,
  // first trying it as a PEM public key and catching the throw (a tenth of a list request's
  // CPU, measured). jsonwebtoken takes KeyObjects; passport-jwt only passes the key through.
  const key = createSecretKey(Buffer.from(config.jwt.secret ?? ''));
  return { ...common, algorithms: ['HS256'], secretOrKey: key as unknown as Buffer };
}

interface Claims {
  sub?: unknown;
  exp?: unknown;
  tenant_id?: unknown;
  customer_id?: unknown;
  role?: unknown;
}

/** Signature, expiry, issuer and audience are checked by passport-jwt; the claims here. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(strategyOptions(config));
  }

  validate(claims: Claims): Principal | false {
    const { sub, exp, tenant_id: tenantId, customer_id: customerId, role } = claims;
    if (typeof exp !== 'number') return false;
    if (typeof tenantId !== 'string' || !isUUID(tenantId)) return false;
    if (
      customerId !== undefined &&
      customerId !== null &&
      !(typeof customerId === 'string' && isUUID(customerId))
    ) {
      return false;
    }
    if (!ROLES.includes(role as Role)) return false;
    return {
      kind: 'user',
      tenantId: tenantId.toLowerCase(),
      customerId: typeof customerId === 'string' ? customerId.toLowerCase() : null,
      role: role as Role,
      subject: typeof sub === 'string' ? sub : '',
    };
  }
}
