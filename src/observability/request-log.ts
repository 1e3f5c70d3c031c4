import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import { Meters } from './meters/meters';

/** Probes of load balancers: counted, never logged (one line a second per prober otherwise). */
const QUIET = new Set(['/healthz', '/readyz']);

/** What no route matched: one label for all, whatever the URL, so a scanner adds no series. */
const UNMATCHED = 'unmatched';

type Answered = FastifyRequest & { user?: Principal };

/**
 * One line and one count per request, as plain Fastify hooks: no middleware emulation, no
 * per-request child logger. The line is written once the response is sent, with what the
 * auth guard found (`request.user`): the tenant and principal (a key's id, never the key).
 * 5xx lines are errors (someone must look), 4xx and the rest info: a client's mistake is
 * news to the client, not to the operator.
 */
export function registerRequestLog(fastify: FastifyInstance, logger: Logger, meters: Meters) {
  fastify.addHook('onResponse', (request: Answered, reply: FastifyReply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url ?? UNMATCHED;
    const ms = reply.elapsedTime;
    const labels = { method: request.method, route, status };
    meters.requests.inc(labels);
    meters.requestSeconds.observe(labels, ms / 1000);
    if (QUIET.has(route)) return done();
    const level = status >= 500 ? 'error' : 'info';
    if (!logger.isLevelEnabled(level)) return done();
    const principal = request.user;
    logger[level](
      {
        reqId: request.id,
        method: request.method,
        route,
        // The path names the ids; a query may hold personal data (a phone number looked up).
        path: pathOf(request.url),
        status,
        ms: Math.round(ms * 10) / 10,
        tenantId: principal?.tenantId,
        principal: principal && { kind: principal.kind, id: principal.subject },
      },
      'request',
    );
    done();
  });
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
