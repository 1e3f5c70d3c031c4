import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode, sign } from 'jsonwebtoken';
import { TestApp, startTestApp } from '../helpers/app';
import { OidcClient, OidcProvider, signingKey } from '../helpers/oidc-provider';

/**
 * HydraCore against a real OpenID provider (oidc-provider): tokens it issues, its key rotation,
 * its outage, and a flood of made-up key ids. The intervals are short so the bounds show in
 * seconds; each bound asserted is the documented one with a margin for a loaded machine.
 */
describe('JWTs from a real OpenID provider, verified through its JWKS', () => {
  const REFRESH_MS = 2_000;
  const COOLDOWN_MS = 1_000;
  const MARGIN_MS = 5_000;
  // Provider restarts and the flood take seconds each on a loaded machine.
  const SLOW_TEST_MS = 120_000;
  const resource = 'https://api.hydracore.test';
  const tenantId = randomUUID();
  const clients: OidcClient[] = [
    {
      client_id: 'dashboard',
      client_secret: 'dashboard-secret-0123456789',
      tenant_id: tenantId,
      role: 'admin',
    },
    {
      client_id: 'customer-member',
      client_secret: 'member-secret-0123456789abc',
      tenant_id: tenantId,
      role: 'member',
      customer_id: randomUUID(),
    },
  ];
  const keyA = signingKey('key-a');
  const keyB = signingKey('key-b');
  let provider: OidcProvider;
  let t: TestApp;

  beforeAll(async () => {
    provider = await OidcProvider.start({ keys: [keyA], clients, resource });
    t = await startTestApp({
      JWT_SECRET: undefined,
      JWT_JWKS_URL: provider.jwksUri,
      JWT_ISSUER: provider.issuer,
      JWT_AUDIENCE: resource,
      JWT_JWKS_REFRESH_MS: String(REFRESH_MS),
      JWT_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
    });
    await t.app.listen(0, '127.0.0.1');
    // The provider vouches for the claims; the tenant must still exist here.
    await t.raw.query(`INSERT INTO tenants (id, name) VALUES ($1, 'OIDC test')`, [tenantId]);
  }, SLOW_TEST_MS);
  afterAll(async () => {
    await provider?.stop();
    await t?.close();
  });

  const call = (jwt: string) => t.http().get('/v1/customers').set('Authorization', `Bearer ${jwt}`);
  const kidOf = (jwt: string) => decode(jwt, { complete: true })?.header.kid;

  /** Polls until `jwt` is answered `status`; the milliseconds that took. */
  async function answeredWithin(jwt: string, status: number, limitMs: number): Promise<number> {
    const started = Date.now();
    let last = 0;
    while (Date.now() - started <= limitMs) {
      last = (await call(jwt)).status;
      if (last === status) return Date.now() - started;
      await sleep(100);
    }
    throw new Error(`still ${last} after ${limitMs} ms, expected ${status}`);
  }

  it('accepts the tokens it issues, with their tenant and role, for this audience only', async () => {
    const tokenA = await provider.token('dashboard');
    expect(kidOf(tokenA)).toBe('key-a');
    const created = await t
      .http()
      .post('/v1/customers')
      .set('Authorization', `Bearer ${tokenA}`)
      .send({ name: 'Issued by the provider' })
      .expect(201);
    const { rows } = await t.raw.query('SELECT tenant_id FROM customers WHERE id = $1', [
      created.body.id,
    ]);
    expect(rows).toEqual([{ tenant_id: tenantId }]);

    const member = await provider.token('customer-member');
    await t
      .http()
      .post('/v1/customers')
      .set('Authorization', `Bearer ${member}`)
      .send({ name: 'Not allowed' })
      .expect(403);

    const elsewhere = await provider.token('dashboard', 'https://another-api.example');
    const refused = await call(elsewhere).expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
  });

  it(
    'follows a key rotation: both keys while both are published, then the old one is refused',
    async () => {
      provider = await provider.restart([keyA]);
      const tokenA = await provider.token('dashboard');
      await answeredWithin(tokenA, 200, COOLDOWN_MS + MARGIN_MS);

      provider = await provider.restart([keyB, keyA]);
      const tokenB = await provider.token('dashboard');
      expect(kidOf(tokenB)).toBe('key-b');
      // A key HydraCore has not seen is read at once, or after the cooldown if a read just ran.
      await answeredWithin(tokenB, 200, COOLDOWN_MS + MARGIN_MS);
      await call(tokenA).expect(200);

      provider = await provider.restart([keyB]);
      const withdrawn = await answeredWithin(tokenA, 401, REFRESH_MS + COOLDOWN_MS + MARGIN_MS);
      console.log(`a withdrawn key was refused ${withdrawn} ms after the provider dropped it`);
      await call(tokenB).expect(200);
    },
    SLOW_TEST_MS,
  );

  it(
    'answers 503 for a key it cannot ask the stopped provider about, and keeps known keys working',
    async () => {
      provider = await provider.restart([keyB]);
      const tokenB = await provider.token('dashboard');
      await answeredWithin(tokenB, 200, COOLDOWN_MS + MARGIN_MS);

      // A key published after HydraCore's last read, and a token signed with it.
      const keyC = signingKey('key-c');
      provider = await provider.restart([keyC, keyB]);
      const tokenC = await provider.token('dashboard');
      expect(kidOf(tokenC)).toBe('key-c');
      await provider.stop();
      await sleep(COOLDOWN_MS); // past the cooldown of the last read, so HydraCore tries to read

      const unavailable = await call(tokenC).expect(503);
      expect(unavailable.body).toEqual({ detail: 'Identity provider unavailable; retry' });
      expect(Number(unavailable.headers['retry-after'])).toBeGreaterThan(0);
      await call(tokenB).expect(200);
      // Past the refresh interval too: a failed refresh keeps the keys already read.
      await sleep(REFRESH_MS + COOLDOWN_MS);
      await call(tokenB).expect(200);
      await call(tokenC).expect(503);

      provider = await OidcProvider.start({ keys: [keyC, keyB], clients, resource }, provider.port);
      await answeredWithin(tokenC, 200, COOLDOWN_MS + MARGIN_MS);
    },
    SLOW_TEST_MS,
  );

  it(
    'reads the JWKS a bounded number of times under a flood of unknown kids, and still takes a new key',
    async () => {
      provider = await provider.restart([keyB]);
      await answeredWithin(await provider.token('dashboard'), 200, COOLDOWN_MS + MARGIN_MS);
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const claims = { tenant_id: tenantId, role: 'admin', iss: provider.issuer, aud: resource };
      const flood = Array.from({ length: 400 }, () =>
        sign(claims, stranger, {
          algorithm: 'RS256',
          keyid: randomBytes(8).toString('hex'),
          expiresIn: 600,
        }),
      );
      const { port } = t.app.getHttpServer().address() as { port: number };
      await sleep(COOLDOWN_MS);
      const readsBefore = await provider.jwksFetches();

      const started = Date.now();
      const answers = await Promise.all(
        flood.map(async (jwt) => {
          const sent = Date.now();
          const response = await fetch(`http://127.0.0.1:${port}/v1/customers`, {
            headers: { authorization: `Bearer ${jwt}` },
          });
          await response.arrayBuffer();
          return { status: response.status, ms: Date.now() - sent };
        }),
      );
      const floodMs = Date.now() - started;
      const reads = (await provider.jwksFetches()) - readsBefore;
      const times = answers.map(({ ms }) => ms).sort((a, b) => a - b);
      console.log(
        `${flood.length} unknown kids at once: ${reads} JWKS reads in ${floodMs} ms; answered ` +
          `in ${times[Math.floor(times.length / 2)]} ms (median), ${times[times.length - 1]} ms (slowest)`,
      );

      expect(new Set(answers.map(({ status }) => status))).toEqual(new Set([401]));
      // One read per cooldown at most, whichever tokens asked for it.
      expect(reads).toBeLessThanOrEqual(Math.ceil(floodMs / COOLDOWN_MS) + 1);

      // The provider rotates right after the flood: its new key is not held up by it.
      const keyD = signingKey('key-d', 'ec');
      provider = await provider.restart([keyD, keyB]);
      const tokenD = await provider.token('dashboard');
      expect(decode(tokenD, { complete: true })?.header).toMatchObject({
        kid: 'key-d',
        alg: 'ES256',
      });
      const accepted = await answeredWithin(tokenD, 200, COOLDOWN_MS + MARGIN_MS);
      console.log(`a key rotated in after the flood was accepted within ${accepted} ms`);
    },
    SLOW_TEST_MS,
  );
});
