/**
 * npm run token -- --tenant <id> [--customer <id>] --role admin|member [--sub <id>] [--hours <n>]
 * Prints an HS256 JWT signed with JWT_SECRET (or, in embedded mode, the secret under
 * HYDRACORE_DATA_DIR), reading .env in the working directory and the environment as the server does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isUUID } from 'class-validator';
import { signDevToken } from '../src/auth/tokens';
import { ConfigError, readEnvironment } from '../src/config/environment';
import { tokenSchema } from '../src/config/schema';
import { localSecrets } from '../src/database/embedded';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    customer: { type: 'string' },
    role: { type: 'string' },
    sub: { type: 'string', default: 'dev-user' },
    hours: { type: 'string', default: '12' },
  },
});

/** Exit 2: the command line is wrong; 1: the configuration is. */
function fail(message: string, code = 2): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(code);
}

if (!values.tenant || !isUUID(values.tenant)) fail('--tenant <uuid> is required');
if (values.customer && !isUUID(values.customer)) fail('--customer must be a uuid');
if (values.role !== 'admin' && values.role !== 'member') fail('--role must be admin or member');
const hours = Number(values.hours);
if (!Number.isFinite(hours) || hours <= 0) fail('--hours must be a positive number');

function settings() {
  try {
    return readEnvironment(tokenSchema);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 1);
    throw error;
  }
}
const { dataDir, jwtSecret, issuer, audience } = settings();
const secretsFile = join(dataDir, 'secrets.json');
const secret = jwtSecret ?? (existsSync(secretsFile) ? localSecrets(dataDir).jwtSecret : null);
if (!secret) fail(`JWT_SECRET is not set and there is no ${secretsFile} (run npm start once)`, 1);

const token = signDevToken(
  secret,
  {
    sub: values.sub,
    tenantId: values.tenant,
    customerId: values.customer ?? null,
    role: values.role,
  },
  {
    issuer,
    audience,
    expiresInSeconds: hours * 3600,
  },
);
process.stdout.write(`${token}\n`);
