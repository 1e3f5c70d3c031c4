import { JsonWebKey, KeyObject, createPublicKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { DomainError, unauthorized } from '../common/errors';

/** One read of the key set is abandoned after this: a token waiting on it waits no longer. */
const FETCH_TIMEOUT_MS = 5_000;
/** A key set is a few kilobytes; anything this large is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export const IDENTITY_PROVIDER_UNAVAILABLE = 'Identity provider unavailable; retry';

export interface JwksOptions {
  url: string;
  /** The key set is read again when older than this, so a withdrawn key stops verifying. */
  refreshMs: number;
  /** Reads of the key set start at most this often, whatever asks for them. */
  cooldownMs: number;
}

interface Entry {
  kid: string | null;
  alg: string | null;
  key: KeyObject;
}

/** The algorithms a deployment accepts, and the key each needs. */
const KEY_TYPES: Record<string, (key: KeyObject) => boolean> = {
  RS256: (key) => key.asymmetricKeyType === 'rsa',
  ES256: (key) =>
    key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
};
export const JWKS_ALGORITHMS = Object.keys(KEY_TYPES) as ('RS256' | 'ES256')[];

/**
 * The identity provider's signing keys, read from its JWKS and kept between reads.
 *
 * Every read, whether for a token with a key we do not have or because the set is old, is one
 * shared read that starts at most once per cooldown. A flood of tokens naming made-up keys
 * therefore costs the provider one read per cooldown and each such token a 401 without waiting,
 * and a key the provider really added is found by the first read after it appears. (A limit per
 * minute on reads, as jwks-rsa has, is spent by the flood and then refuses the real key too.)
 *
 * A read that fails keeps the keys we have: tokens signed with them keep working while the
 * provider is down (it issues no new tokens meanwhile, so this lasts as long as the tokens it
 * issued before). A token whose key we do not have is then a 503, since we cannot tell whether
 * the key is real.
 */
export class JwksKeys {
  private readonly logger = new Logger('Jwks');
  private entries: Entry[] = [];
  private readAt: number | null = null;
  private attemptAt: number | null = null;
  private lastAttemptFailed = false;
  private reading: Promise<void> | null = null;

  constructor(private readonly options: JwksOptions) {}

  /** The key a token's header names, or a DomainError: 401 for a bad key, 503 for no answer. */
  async keyFor(kid: string | null, alg: string): Promise<KeyObject> {
    // Tokens of another algorithm never cause a read: no key of the set could verify them.
    if (!Object.hasOwn(KEY_TYPES, alg)) return refuse();
    if (this.stale()) void this.read();
    let found = this.find(kid, alg);
    if (found !== undefined) return found ?? refuse();
    if (this.reading) await this.reading;
    else if (this.mayRead()) await this.read();
    found = this.find(kid, alg);
    if (found !== undefined) return found ?? refuse();
    if (this.lastAttemptFailed) throw new DomainError('unavailable', IDENTITY_PROVIDER_UNAVAILABLE);
    return refuse();
  }

  /** The key (a KeyObject), null when the set names it but not for this algorithm, or undefined. */
  private find(kid: string | null, alg: string): KeyObject | null | undefined {
    const fits = (entry: Entry) =>
      (entry.alg === null || entry.alg === alg) && KEY_TYPES[alg](entry.key);
    if (kid === null) {
      // Without a kid only a set of one usable key is unambiguous (as jwks-rsa had it).
      const usable = this.entries.filter(fits);
      return usable.length === 1 ? usable[0].key : usable.length > 1 ? null : undefined;
    }
    const entry = this.entries.find((candidate) => candidate.kid === kid);
    if (!entry) return undefined;
    return fits(entry) ? entry.key : null;
  }

  private stale(): boolean {
    return (
      this.readAt !== null &&
      performance.now() - this.readAt >= this.options.refreshMs &&
      this.reading === null &&
      this.mayRead()
    );
  }

  private mayRead(): boolean {
    return this.attemptAt === null || performance.now() - this.attemptAt >= this.options.cooldownMs;
  }

  /** One read at a time; its failure is recorded, never thrown. */
  private read(): Promise<void> {
    if (this.reading) return this.reading;
    this.attemptAt = performance.now();
    this.reading = fetchKeySet(this.options.url)
      .then((entries) => {
        this.entries = entries;
        this.readAt = performance.now();
        this.lastAttemptFailed = false;
      })
      .catch((error: unknown) => {
        this.lastAttemptFailed = true;
        this.logger.warn(
          `JWKS read from ${new URL(this.options.url).host} failed (${reason(error)}); keeping the keys already read`,
        );
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}

/** fetch's own message is "fetch failed"; what failed is in its cause. */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = cause?.code ?? cause?.message;
  return typeof detail === 'string' ? `${error.message}: ${detail}` : error.message;
}

function refuse(): never {
  throw unauthorized('Invalid or expired token');
}

async function fetchKeySet(url: string): Promise<Entry[]> {
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  if (text.length > MAX_BODY_BYTES) throw new Error('JWKS too large');
  const body = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error('not a JWKS: no "keys" array');
  return body.keys.flatMap((jwk: unknown) => {
    const entry = toEntry(jwk);
    return entry ? [entry] : [];
  });
}

/** Public signing keys only; a key we cannot use is left out rather than failing the set. */
function toEntry(jwk: unknown): Entry | null {
  if (typeof jwk !== 'object' || jwk === null) return null;
  const { kid, alg, use, kty } = jwk as Record<string, unknown>;
  if (use !== undefined && use !== 'sig') return null;
  if (kty !== 'RSA' && kty !== 'EC') return null;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return {
      kid: typeof kid === 'string' ? kid : null,
      alg: typeof alg === 'string' ? alg : null,
      key,
    };
  } catch {
    return null;
  }
}
