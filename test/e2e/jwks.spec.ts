import { KeyObject, generateKeyPairSync } from 'node:crypto';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { sign } from 'jsonwebtoken';
import { TestApp, startTestApp } from '../helpers/app';

/** A real JWKS endpoint on loopback, as an identity provider would serve it. */
function serveJwks(keys: { kid: string; key: KeyObject }[]): Promise<Server> {
  const body = JSON.stringify({
    keys: keys.map(({ kid, key }) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' })),
  });
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(body),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('JWTs verified with keys from JWT_JWKS_URL', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tenantId = '00000000-0000-4000-8000-0000000000aa';
  const claims = { tenant_id: tenantId, role: 'admin', sub: 'idp-user' };
  let jwks: Server;
  let t: TestApp;

  beforeAll(async () => {
    jwks = await serveJwks([
      { kid: 'rsa-1', key: rsa.publicKey },
      { kid: 'ec-1', key: ec.publicKey },
    ]);
    const { port } = jwks.address() as AddressInfo;
    t = await startTestApp({
      JWT_SECRET: undefined,
      JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
    });
    // The tokens' tenant must exist: a JWT of a tenant never created is refused.
    await t.raw.query(`INSERT INTO tenants (id, name) VALUES ($1, 'JWKS test')`, [tenantId]);
  });
  afterAll(async () => {
    await t.close();
    jwks.close();
  });

  const call = (jwt: string) => t.http().get('/v1/customers').set('Authorization', `Bearer ${jwt}`);

  it('accepts RS256 and ES256 tokens signed by the published keys', async () => {
    await call(
      sign(claims, rsa.privateKey, { algorithm: 'RS256', keyid: 'rsa-1', expiresIn: 60 }),
    ).expect(200);
    await call(
      sign(claims, ec.privateKey, { algorithm: 'ES256', keyid: 'ec-1', expiresIn: 60 }),
    ).expect(200);
  });

  it('refuses algorithm switching: HS256 signed with the public key as secret', async () => {
    const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const forged = sign(claims, publicPem, { algorithm: 'HS256', keyid: 'rsa-1', expiresIn: 60 });
    await call(forged).expect(401);
  });

  it('refuses a key the JWKS does not publish, and a missing exp', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await call(
      sign(claims, stranger.privateKey, { algorithm: 'RS256', keyid: 'rsa-1', expiresIn: 60 }),
    ).expect(401);
    await call(
      sign(claims, stranger.privateKey, { algorithm: 'RS256', keyid: 'unknown', expiresIn: 60 }),
    ).expect(401);
    await call(
      sign(claims, rsa.privateKey, { algorithm: 'RS256', keyid: 'rsa-1', noTimestamp: true }),
    ).expect(401);
  });
});
