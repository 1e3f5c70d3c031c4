import { ChildProcess, spawn } from 'node:child_process';
import { JsonWebKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';

const FIXTURE = join(__dirname, '..', 'fixtures', 'oidc-provider.mjs');

/** A machine client of the provider; its tokens carry these HydraCore claims. */
export interface OidcClient {
  client_id: string;
  client_secret: string;
  tenant_id: string;
  role: 'admin' | 'member';
  customer_id?: string;
}

/** A private signing key as the provider is configured with it (the JWKS shows its public half). */
export function signingKey(kid: string, kind: 'rsa' | 'ec' = 'rsa'): JsonWebKey {
  const { privateKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

interface Settings {
  keys: JsonWebKey[];
  clients: OidcClient[];
  resource: string;
}

/**
 * oidc-provider in a child process (it is ESM-only; Jest's sandbox is CommonJS), spoken to over
 * HTTP as HydraCore speaks to it. Restarts keep the port, so issuer and JWKS URL stay the same.
 */
export class OidcProvider {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    private readonly settings: Settings,
  ) {}

  get port(): number {
    return Number(new URL(this.issuer).port);
  }

  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  static async start(settings: Settings, port = 0): Promise<OidcProvider> {
    const child = spawn(process.execPath, [FIXTURE], {
      env: {
        ...process.env,
        OIDC_PORT: String(port),
        OIDC_KEYS: JSON.stringify(settings.keys),
        OIDC_CLIENTS: JSON.stringify(settings.clients),
        OIDC_RESOURCE: settings.resource,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const issuer = await new Promise<string>((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => {
        const line = JSON.parse(chunk.toString().split('\n')[0]) as { issuer: string };
        resolve(line.issuer);
      });
      child.once('exit', (code) => reject(new Error(`provider exited (${code}): ${stderr}`)));
    });
    const provider = new OidcProvider(child, issuer, settings);
    // What HydraCore is configured with is what the provider's discovery document says.
    const discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as { jwks_uri: string };
    if (discovery.jwks_uri !== provider.jwksUri) throw new Error(`jwks_uri ${discovery.jwks_uri}`);
    return provider;
  }

  /** The same provider, on the same port, with another set of keys (the first one signs). */
  async restart(keys: JsonWebKey[]): Promise<OidcProvider> {
    await this.stop();
    return OidcProvider.start({ ...this.settings, keys }, this.port);
  }

  /** An access token from the client credentials grant, a JWT for `resource`. */
  async token(clientId: string, resource = this.settings.resource): Promise<string> {
    const client = this.settings.clients.find((candidate) => candidate.client_id === clientId);
    if (!client) throw new Error(`no client ${clientId}`);
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        resource,
        scope: 'api',
      }),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!response.ok || !body.access_token) {
      throw new Error(`token ${response.status}: ${JSON.stringify(body)}`);
    }
    return body.access_token;
  }

  /** How many times this run of the provider has served its JWKS. */
  async jwksFetches(): Promise<number> {
    const response = await fetch(`${this.issuer}/test/jwks-fetches`);
    return ((await response.json()) as { jwks_fetches: number }).jwks_fetches;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
