import helmet from 'helmet';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from './config/app-config';

/**
 * Security headers on every response (errors and /docs included) and CORS for the configured
 * browser origins only. Registered before the routes so that Fastify applies their hooks to all.
 */
export function applyHttpSecurity(app: NestFastifyApplication, config: AppConfig): void {
  // helmet's own middleware, built once. @fastify/helmet rebuilds it (and re-parses the CSP)
  // on every request through two async hooks: 2% of a read's CPU for the same headers.
  const secure = helmet({
    contentSecurityPolicy: {
      // Helmet's defaults suit Swagger UI: its scripts are files of ours ('self') and its only
      // inline code is CSS (style-src allows 'unsafe-inline'). Upgrading requests is left to
      // HSTS: over plain-HTTP development it would send the page's own assets to https and break it.
      directives: { upgradeInsecureRequests: null },
    },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) =>
      secure(request.raw, reply.raw, (error) => done(error as Error | undefined)),
    );
  // No origins configured: no CORS headers at all, so browsers keep the same-origin policy.
  if (config.corsOrigins.length === 0) return;
  app.enableCors({
    origin: config.corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Api-Key', 'X-Request-Id'],
    // Credentials travel in headers, never cookies, so no Access-Control-Allow-Credentials.
    exposedHeaders: [
      'Retry-After',
      'X-Request-Id',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ],
    maxAge: 600,
  });
}
