import { KeyObject, generateKeyPairSync } from 'node:crypto';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { DomainError } from '../../src/common/errors';
import { JwksKeys } from '../../src/auth/jwks-keys';

/** A JWKS on loopback whose keys (or failure) the test changes, counting its reads. */
class KeySetServer {
  reads = 0;
  body: string | null = null;
  private constructor(readonly server: Server) {}

  static async start(): Promise<KeySetServer> {
    const jwks = new KeySetServer(
      createServer((_req, res) => {
        jwks.reads += 1;
        if (jwks.body === null) res.writeHead(500).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(jwks.body);
      }),
    );
    await new Promise<void>((resolve) => jwks.server.listen(0, '127.0.0.1', resolve));
    return jwks;
  }

  publish(keys: { kid?: string; alg?: string; key: KeyObject }[]): void {
    this.body = JSON.stringify({
      keys: keys.map(({ kid, alg, key }) => ({ ...key.export({ format: 'jwk' }), kid, alg })),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks`;
  }
}

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

const kindOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'key',
    (error: unknown) => (error instanceof DomainError ? error.kind : 'other'),
  );

describe('JwksKeys', () => {
  let jwks: KeySetServer;
  beforeAll(() => Logger.overrideLogger(false)); // failed reads are logged; expected here
  beforeEach(async () => {
    jwks = await KeySetServer.start();
  });
  afterEach(() => jwks.server.close());

  it('reads once for any number of unknown kids within the cooldown, and refuses them at once', async () => {
    const known = rsa();
    jwks.publish([{ kid: 'known', key: known }]);
    const keys = new JwksKeys({ url: jwks.url, refreshMs: 60_000, cooldownMs: 60_000 });
    const key = await keys.keyFor('known', 'RS256');
    expect(await keys.keyFor('known', 'RS256')).toBe(key);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => kindOf(keys.keyFor(`made-up-${i}`, 'RS256'))),
    );
    for (let i = 0; i < 20; i += 1) outcomes.push(await kindOf(keys.keyFor(`later-${i}`, 'RS256')));
    expect(new Set(outcomes)).toEqual(new Set(['unauthorized']));
    expect(jwks.reads).toBe(1);
  });

  it('takes a new kid at the first read the cooldown allows', async () => {
    jwks.publish([{ kid: 'old', key: rsa() }]);
    // Long enough that a loaded machine still asks again within it.
    const keys = new JwksKeys({ url: jwks.url, refreshMs: 60_000, cooldownMs: 3_000 });
    await keys.keyFor('old', 'RS256');
    jwks.publish([{ kid: 'new', key: ec() }]);
    expect(await kindOf(keys.keyFor('new', 'ES256'))).toBe('unauthorized'); // within the cooldown
    await sleep(3_050);
    expect(await kindOf(keys.keyFor('new', 'ES256'))).toBe('key');
    expect(jwks.reads).toBe(2);
  });

  it('never reads for an algorithm it does not accept, nor for a kid whose key is of another type', async () => {
    jwks.publish([{ kid: 'rsa', key: rsa() }]);
    const keys = new JwksKeys({ url: jwks.url, refreshMs: 60_000, cooldownMs: 0 });
    await keys.keyFor('rsa', 'RS256');
    expect(await kindOf(keys.keyFor('rsa', 'ES256'))).toBe('unauthorized');
    expect(await kindOf(keys.keyFor('other', 'HS256'))).toBe('unauthorized');
    expect(await kindOf(keys.keyFor('other', 'none'))).toBe('unauthorized');
    expect(jwks.reads).toBe(1);
  });

  it('honours a key’s alg, and takes a token without kid only when one key fits', async () => {
    jwks.publish([{ kid: 'pinned', alg: 'RS512', key: rsa() }]);
    const keys = new JwksKeys({ url: jwks.url, refreshMs: 60_000, cooldownMs: 60_000 });
    expect(await kindOf(keys.keyFor('pinned', 'RS256'))).toBe('unauthorized');
    expect(await kindOf(keys.keyFor(null, 'RS256'))).toBe('unauthorized');

    jwks.publish([
      { kid: 'a', key: rsa() },
      { kid: 'b', key: ec() },
    ]);
    const fresh = new JwksKeys({ url: jwks.url, refreshMs: 60_000, cooldownMs: 60_000 });
    expect(await kindOf(fresh.keyFor(null, 'ES256'))).toBe('key');
    jwks.publish([
      { kid: 'a', key: rsa() },
      { kid: 'b', key: rsa() },
    ]);
    const ambiguous = new JwksKeys({ url: jwks.url, refreshMs: 60_000, cooldownMs: 60_000 });
    expect(await kindOf(ambiguous.keyFor(null, 'RS256'))).toBe('unauthorized');
  });

  it('keeps its keys when a read fails, and answers unavailable for keys it does not have', async () => {
    jwks.publish([{ kid: 'known', key: rsa() }]);
    const keys = new JwksKeys({ url: jwks.url, refreshMs: 100, cooldownMs: 100 });
    await keys.keyFor('known', 'RS256');
    jwks.body = null; // the provider answers 500 from now on
    await sleep(150);
    expect(await kindOf(keys.keyFor('known', 'RS256'))).toBe('key'); // starts a refresh
    expect(await kindOf(keys.keyFor('unknown', 'RS256'))).toBe('unavailable');
    await sleep(150);
    expect(await kindOf(keys.keyFor('known', 'RS256'))).toBe('key');
    expect(jwks.reads).toBeGreaterThanOrEqual(2);
  });

  it('drops a withdrawn key at the first read after the refresh interval', async () => {
    jwks.publish([
      { kid: 'a', key: rsa() },
      { kid: 'b', key: rsa() },
    ]);
    const keys = new JwksKeys({ url: jwks.url, refreshMs: 200, cooldownMs: 100 });
    await keys.keyFor('a', 'RS256');
    jwks.publish([{ kid: 'b', key: rsa() }]);
    await sleep(100);
    expect(await kindOf(keys.keyFor('a', 'RS256'))).toBe('key'); // not yet stale
    await sleep(150);
    // Stale now: the next lookup still answers from the old set and starts the read.
    const started = Date.now();
    while ((await kindOf(keys.keyFor('a', 'RS256'))) === 'key' && Date.now() - started < 2_000) {
      await sleep(20);
    }
    expect(await kindOf(keys.keyFor('a', 'RS256'))).toBe('unauthorized');
  });
});
