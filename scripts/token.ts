/**
 * npm run token -- --tenant <id> [--customer <id>] --role admin|member [--sub <id>] [--hours <n>]
 * Prints an HS256 JWT signed with JWT_SECRET (or, in embedded mode, the secret under .data/).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isUUID } from 'class-validator';
import { signDevToken } from '../src/auth/tokens';
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

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(2);
}

if (!values.tenant || !isUUID(values.tenant)) fail('--tenant <uuid> is required');
if (values.customer && !isUUID(values.customer)) fail('--customer must be a uuid');
if (values.role !== 'admin' && values.role !== 'member') fail('--role must be admin or member');
const hours = Number(values.hours);
if (!Number.isFinite(hours) || hours <= 0) fail('--hours must be a positive number');

const dataDir = resolve(process.env.HYDRACORE_DATA_DIR ?? '.data');
const secret =
  process.env.JWT_SECRET ??
  (existsSync(join(dataDir, 'secrets.json')) ? localSecrets(dataDir).jwtSecret : null);
if (!secret) fail('JWT_SECRET is not set and there is no .data/secrets.json (run npm start once)');

const token = signDevToken(
  secret,
  {
    sub: values.sub,
    tenantId: values.tenant,
    customerId: values.customer ?? null,
    role: values.role,
  },
  {
    issuer: process.env.JWT_ISSUER,
    audience: process.env.JWT_AUDIENCE,
    expiresInSeconds: hours * 3600,
  },
);
process.stdout.write(`${token}\n`);
