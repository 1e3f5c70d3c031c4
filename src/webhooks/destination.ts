import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { refuseAddress } from './addresses';
import { NOT_FOUND, type Resolve, resolverFor } from './dns-resolver';

/**
 * The network edge of webhook delivery: which URLs may receive webhooks, and one POST to such a
 * URL. Both ask the same question of every address a host resolves to (refuseAddress), once when
 * the endpoint is written and again as the connection is made, so a host whose DNS answer changes
 * in between (DNS rebinding) reaches only an address that passed.
 */

/** The parts of AppConfig.webhooks that decide where webhooks may go; that object fits as is. */
export interface DestinationPolicy {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

export type { Resolve } from './dns-resolver';

export const MAX_URL_LENGTH = 2048;
/** The write-time check answers a client, who should not wait on a DNS server that never replies. */
export const RESOLVE_TIMEOUT_MS = 5_000;
/** A receiver's answer body is read up to this and discarded; only its status matters. */
export const MAX_ANSWER_BYTES = 64 * 1024;

interface Target {
  url: URL;
  /** Without the brackets of an IPv6 literal, as the resolver and the socket want it. */
  host: string;
}

function parseTarget(raw: string, policy: DestinationPolicy): Target | string {
  if (raw.length > MAX_URL_LENGTH) return `The URL must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'The URL must be an absolute http(s) URL';
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    return policy.allowHttp ? 'The URL must use https or http' : 'The URL must use https';
  }
  if (url.username !== '' || url.password !== '') {
    return 'The URL must not contain a user name or password';
  }
  // The parser takes 0..65535; nothing listens on port 0, so every delivery would fail.
  if (url.port === '0') return 'The URL must not name port 0';
  // The WHATWG parser has already rewritten odd IPv4 spellings (2130706433, 0x7f.1, 127.1) into
  // dotted quads, so an IP literal is recognised here whatever way it was written.
  return { url, host: url.hostname.replace(/^\[(.*)\]$/, '$1') };
}

/** Why any of `addresses` may not receive webhooks, as a sentence about `host`; null if none. */
function refuseResolved(host: string, addresses: string[], allowPrivate: boolean): string | null {
  if (addresses.length === 0) return `The host ${host} does not resolve to any address`;
  for (const address of addresses) {
    const reason = refuseAddress(address, allowPrivate);
    if (reason !== null) return `The host ${host} resolves to ${address}, ${reason}`;
  }
  return null;
}

function refuseLiteral(host: string, allowPrivate: boolean): string | null {
  const reason = refuseAddress(host, allowPrivate);
  return reason === null ? null : `The host ${host} is ${reason}`;
}

function unresolvable(host: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return NOT_FOUND.has(code ?? '')
    ? `The host ${host} does not resolve to any address`
    : `The host ${host} could not be resolved${code ? ` (${code})` : ''}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Why this URL may not receive webhooks (one sentence, fit for a 422 msg), or null when it may.
 * Resolves the host: every address it resolves to must be allowed, and a host that does not
 * resolve is refused. `send` checks again at connect time; this check is for telling the tenant.
 */
export async function refuseDestination(
  url: string,
  policy: DestinationPolicy,
  options: { resolve?: Resolve; timeoutMs?: number } = {},
): Promise<string | null> {
  const target = parseTarget(url, policy);
  if (typeof target === 'string') return target;
  const { host } = target;
  if (isIP(host)) return refuseLiteral(host, policy.allowPrivateNetworks);
  let addresses: string[];
  try {
    const resolve = options.resolve ?? resolverFor(policy);
    addresses = await withTimeout(resolve(host), options.timeoutMs ?? RESOLVE_TIMEOUT_MS);
  } catch (error) {
    return unresolvable(host, error);
  }
  return refuseResolved(host, addresses, policy.allowPrivateNetworks);
}

/** Why the socket's lookup gave no address; its message is the SendResult's error as is. */
class LookupProblem extends Error {}

/**
 * The `lookup` the socket connects through: it resolves the host, refuses the lot if any address
 * is not allowed, and hands the socket only addresses that passed, so nothing can change between
 * the check and the connect. Node skips `lookup` for IP literals; `send` checks those itself.
 */
function guardedLookup(resolve: Resolve, allowPrivate: boolean): LookupFunction {
  return (hostname, options, done) => {
    // Through a promise, so that a resolver throwing at once still reaches `done`.
    Promise.resolve(hostname)
      .then(resolve)
      .then(
        (addresses) => {
          const refusal = refuseResolved(hostname, addresses, allowPrivate);
          if (refusal !== null) return done(new LookupProblem(refusal), []);
          const wanted = String(options.family ?? 0);
          const family =
            wanted === '4' || wanted === 'IPv4' ? 4 : wanted === '6' || wanted === 'IPv6' ? 6 : 0;
          const usable = addresses
            .map((address) => ({ address, family: isIP(address) }))
            .filter((entry) => family === 0 || entry.family === family);
          if (usable.length === 0) {
            return done(new LookupProblem(`The host ${hostname} has no IPv${family} address`), []);
          }
          if (options.all) done(null, usable);
          else done(null, usable[0].address, usable[0].family);
        },
        (error: unknown) => done(new LookupProblem(unresolvable(hostname, error)), []),
      );
  };
}

export interface SendResult {
  /** The answer's HTTP status, or null when none came. */
  status: number | null;
  /** Null exactly when the answer was 2xx; else `HTTP <status>` or what went wrong. */
  error: string | null;
  durationMs: number;
}

export interface SendOptions {
  /** Bounds the whole attempt: DNS, connect, TLS, the request, the status line and the body. */
  timeoutMs: number;
  policy: DestinationPolicy;
  resolve?: Resolve;
}

function describe(error: unknown): string {
  if (error instanceof LookupProblem) return error.message;
  if (error instanceof AggregateError) {
    // Node tried each of the host's addresses (happy eyeballs) and every attempt failed.
    return [...new Set(error.errors.map((inner) => describe(inner)))].join('; ');
  }
  const { message, code } = (error ?? {}) as NodeJS.ErrnoException;
  return message || code || 'The request failed';
}

/**
 * POSTs `body` with `headers` to `url`, once. Resolves, never rejects, within timeoutMs (plus the
 * event loop's delay): the caller's claim on a delivery lasts timeoutMs plus a margin, and an
 * attempt outliving it could be sent twice. Redirects are not followed (a 3xx is a non-2xx
 * answer). The verdict is the status line: once it came, a body that trickles or overflows
 * MAX_ANSWER_BYTES is cut off without changing the result, since the receiver has already
 * said whether it took the webhook. No connection is kept alive.
 */
export async function send(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const { policy } = options;
  const target = parseTarget(url, policy);
  const refusal =
    typeof target === 'string'
      ? target
      : isIP(target.host)
        ? refuseLiteral(target.host, policy.allowPrivateNetworks)
        : null;
  if (refusal !== null || typeof target === 'string') {
    return { status: null, error: refusal, durationMs: elapsed() };
  }

  return new Promise<SendResult>((resolve) => {
    let status: number | null = null;
    let request: ClientRequest | undefined;
    let settled = false;
    const settle = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request?.destroy();
      const answer =
        status === null ? error : status >= 200 && status < 300 ? null : `HTTP ${status}`;
      resolve({ status, error: answer, durationMs: elapsed() });
    };
    const deadline = setTimeout(
      () => settle(`No answer within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );

    const onAnswer = (answer: IncomingMessage) => {
      status = answer.statusCode ?? null;
      let received = 0;
      answer.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= MAX_ANSWER_BYTES) settle(null);
      });
      answer.on('end', () => settle(null));
      answer.on('error', () => settle(null));
      answer.on('close', () => settle(null));
    };

    try {
      const { url: parsed, host } = target;
      const client = parsed.protocol === 'https:' ? https : http;
      request = client.request(
        {
          protocol: parsed.protocol,
          hostname: host,
          port: parsed.port || undefined,
          path: `${parsed.pathname}${parsed.search}`,
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: false,
          lookup: guardedLookup(
            options.resolve ?? resolverFor(policy),
            policy.allowPrivateNetworks,
          ),
        },
        onAnswer,
      );
      request.on('error', (error) => settle(describe(error)));
      request.end(body);
    } catch (error) {
      // Thrown before any byte left, e.g. a header value with a line break in it.
      settle(describe(error));
    }
  });
}
