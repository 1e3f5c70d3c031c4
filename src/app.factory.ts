import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { RequestValidationError } from './common/errors';
import { registerJsonParser, BODY_LIMIT } from './common/json-body';
import {
  MISSING_HOST,
  clientErrorHandler,
  lacksHost,
  refuseExpectation,
  serverOptions,
} from './common/raw-refusals';
import { AppConfig } from './config/app-config';
import { applyHttpSecurity } from './http-security';
import { createLogger } from './observability/logger';
import { Meters } from './observability/meters/meters';
import { NestPinoLogger } from './observability/nest-logger';
import { registerRequestLog } from './observability/request-log';
import { mountDocs } from './openapi';

const SHUTTING_DOWN = 'This server is shutting down; retry';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A caller's X-Request-Id is kept when it looks like one; otherwise we mint one. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Builds the application (used by main.ts, the tests and the benchmark). */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // Only the configured proxies: otherwise any client could name its own address in
    // X-Forwarded-For (and so its own rate-limit budget).
    trustProxy: config.trustProxy,
    genReqId: requestId,
    // Fastify's default is no limit (it overwrites Node's after creating the server): a client
    // could trickle or stall a body (slow-loris) and hold its socket for ever. Past the limit:
    // 408 and the connection closed.
    requestTimeout: config.requestTimeoutMs,
    http: serverOptions(config.requestTimeoutMs),
    // What Node's parser refuses (431, 400, 408), in our format.
    clientErrorHandler: clientErrorHandler(config.requestTimeoutMs),
    // Fastify's drain-time 503 has its own body; the onRequest hook below answers it instead.
    return503OnClosing: false,
    // Long enough that a wrong id reaches the UUID check (422) rather than the router's limit.
    routerOptions: { maxParamLength: 1000 },
    // What Fastify refuses before routing (a broken %-escape, a path segment past the limit)
    // is a path validation error like any other: 422 in the wire format.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const refused =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? RequestValidationError.at(['path'], 'A path segment is too long', 'string_too_long')
          : RequestValidationError.at(['path'], 'Malformed URL encoding', 'url_invalid');
      void reply.code(422).send({ detail: refused.errors });
    },
  });
  const fastify = adapter.getInstance();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const meters = new Meters();
  fastify.server.on('checkExpectation', refuseExpectation);
  registerJsonParser(fastify);
  // Once closing, each answer closes its connection: otherwise a keep-alive client (a load
  // balancer) holds close() open with idle sockets until the shutdown grace runs out.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Echo the id to the caller: the request log names it too.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // A request that arrives while draining goes to another replica, as Fastify's own 503 would
    // send it, but in our format.
    if (closing) {
      void reply.code(503).header('retry-after', '1').send({ detail: SHUTTING_DOWN });
      return;
    }
    if (lacksHost(request.raw)) {
      void reply.code(400).header('connection', 'close').send({ detail: MISSING_HOST });
      return;
    }
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  registerRequestLog(fastify, logger, meters);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, meters),
    adapter,
    { logger: new NestPinoLogger(logger), bodyParser: false },
  );
  applyHttpSecurity(app, config); // helmet and CORS: before any route, /docs included
  mountDocs(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
