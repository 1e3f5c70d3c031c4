import helmet from 'helmet';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from './config/app-config';

type SecurityHeader = readonly [name: string, value: string];

/**
 * helmet's headers, as its middleware sets them. With these options they depend on nothing in
 * the request (no nonce, no per-request directive), so they are computed once: running the
 * middleware cost each request a dozen closures and a re-check of every directive.
 */
export function securityHeaders(): SecurityHeader[] {
  const secure = helmet({
    contentSecurityPolicy: {
      // Helmet's defaults suit Swagger UI: its scripts are files of ours ('self') and its only
      // inline code is CSS (style-src allows 'unsafe-inline'). Upgrading requests is left to
      // HSTS: over plain-HTTP development it would send the page's own assets to https and break it.
      directives: { upgradeInsecureRequests: null },
    },
  });
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name), // X-Powered-By, which Fastify never sets
  };
  let failed: Error | undefined;
  secure({} as never, response as never, (error?: unknown) => {
    if (error) failed = error instanceof Error ? error : new Error('helmet refused its options');
  });
  if (failed) throw failed;
  return [...headers];
}

/**
 * Security headers on every response (errors and /docs included) and CORS for the configured
 * browser origins only. Registered before the routes so that Fastify applies their hooks to all.
 */
export function applyHttpSecurity(app: NestFastifyApplication, config: AppConfig): void {
  const headers = securityHeaders();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      const raw = reply.raw;
      for (const [name, value] of headers) raw.setHeader(name, value);
      done();
    });
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
