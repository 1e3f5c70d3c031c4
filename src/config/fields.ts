import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/*
 * The kinds of value a variable holds. Each schema below reads one trimmed, non-empty string;
 * `required`, `optional` and `withDefault` wrap it into a variable of the environment, where
 * unset and blank mean the same (a line left empty in .env means "use the default").
 */

const quoted = (raw: unknown) => JSON.stringify(raw);

function variable<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() ? value.trim() : undefined),
    schema,
  );
}

export function required<T extends z.ZodType<unknown, string>>(schema: T, why = '') {
  const present = z.string({
    error: (issue) =>
      issue.input === undefined ? `is required${why ? ` ${why}` : ''}` : undefined,
  });
  return variable(present.pipe(schema));
}

export function optional<T extends z.ZodType<unknown, string>>(schema: T) {
  return variable(schema.nullable().default(null));
}

/** `fallback` is written as the variable would be, and read like it. */
export function withDefault<T extends z.ZodType<unknown, string>>(schema: T, fallback: string) {
  return variable(schema.prefault(fallback as z.input<T>));
}

export const text = z.string();

export const integer = (min: number, max: number) =>
  z
    .string()
    .refine((raw) => /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, {
      error: (issue) => `must be an integer between ${min} and ${max}, got ${quoted(issue.input)}`,
    })
    .transform(Number);

export const atLeast = (length: number) =>
  z.string().min(length, { error: `must be at least ${length} characters` }); // never echoed: secrets

/** The value is not echoed: a database URL carries its password. */
export const url = (protocols: string[]) =>
  z
    .string()
    .refine((raw) => URL.canParse(raw), { error: 'must be a URL', abort: true })
    .refine((raw) => protocols.includes(new URL(raw).protocol), {
      error: `must use one of ${protocols.join(', ')}`,
    });

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) => `must be one of ${values.join(', ')}, got ${quoted(issue.input)}`,
  });

export const flag = z.stringbool({
  truthy: ['true', '1'],
  falsy: ['false', '0'],
  case: 'sensitive',
  error: (issue) => `must be true or false, got ${quoted(issue.input)}`,
});

/** Origins exactly as browsers send them (`https://app.example.com`): no path, no wildcard. */
export const origins = z.string().transform((raw, ctx) => {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.find(
    (entry) =>
      !/^https?:\/\//.test(entry) || !URL.canParse(entry) || new URL(entry).origin !== entry,
  );
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must list origins like https://app.example.com, comma-separated; got ${quoted(bad)}`,
    });
  }
  return entries;
});

/** Fastify's proxy-addr expands these names into their ranges. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * What Fastify's trustProxy compiles without throwing at start-up (proxy-addr's rules, on the
 * same ipaddr.js): an address, with an optional prefix length (1 to 32 or 128) or IPv4 netmask.
 */
function isProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.includes(entry)) return true;
  const slash = entry.lastIndexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  if (!ipaddr.isValid(address)) return false;
  if (slash === -1) return true;
  const max = ipaddr.parse(address).kind() === 'ipv6' ? 128 : 32;
  const range = entry.slice(slash + 1);
  let bits: number | null = null;
  if (/^\d+$/.test(range)) bits = Number(range);
  else if (max === 32 && ipaddr.IPv4.isValid(range)) {
    bits = ipaddr.IPv4.parse(range).prefixLengthFromSubnetMask();
  }
  return bits !== null && bits >= 1 && bits <= max;
}

/**
 * Whose X-Forwarded-For to believe: nobody (false), the nearest N hops, or these proxies. Never
 * every hop (`true`): any client could then claim any address.
 */
export const trustProxy = z.string().transform((raw, ctx): false | number | string[] => {
  const expected =
    'must be a hop count (1-10), false, or proxy addresses/CIDRs (or loopback, linklocal, ' +
    'uniquelocal), comma-separated; got';
  if (raw === 'false') return false;
  if (/^\d+$/.test(raw)) {
    if (Number(raw) >= 1 && Number(raw) <= 10) return Number(raw);
    ctx.addIssue({ code: 'custom', message: `${expected} ${quoted(raw)}` });
    return z.NEVER;
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !isProxyEntry(entry));
  if (bad === undefined) return entries;
  const which = bad === raw ? '' : ` (${quoted(bad)} is not one)`;
  ctx.addIssue({ code: 'custom', message: `${expected} ${quoted(raw)}${which}` });
  return z.NEVER;
});

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A comma-separated list of durations such as `5s,5m,2h`, in milliseconds. */
export const schedule = z.string().transform((raw, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const parts = raw.split(',').map((part) => /^\s*(\d{1,9})(ms|s|m|h|d)\s*$/.exec(part));
  if (parts.some((m) => !m)) {
    return fail(`must be durations like 5s,5m,2h (ms, s, m, h or d), got ${quoted(raw)}`);
  }
  const delays = parts.map((m) => Number(m![1]) * UNIT_MS[m![2]]);
  if (delays.length > 50) return fail('may have at most 50 delays');
  if (delays.some((d) => d > 30 * UNIT_MS.d)) return fail('delays may be at most 30 days each');
  return delays;
});

/** 32 raw bytes for AES-256-GCM, written as hex or base64; never echoed. */
export const encryptionKey = z.string().transform((raw, ctx) => {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length === 32) return key;
  ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex characters or base64' });
  return z.NEVER;
});
