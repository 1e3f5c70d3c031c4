import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SECURITY } from './auth/auth.decorators';

/** Tag order follows the published reference's routers, then our additions. */
const TAGS = [
  'Worker bindings',
  'Channels',
  'Workflows',
  'Rules',
  'Approvals',
  'Directory',
  'Platform',
  'Health',
];

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('HydraCore API')
    .setDescription(
      'Control plane of the HydraCore agent platform. Dashboard routes take a JWT (Bearer) or a ' +
        'tenant API key (X-Api-Key); /internal routes take the proxy key of the instance in the path.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, SECURITY.bearer)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, SECURITY.apiKey)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'hc_proxy_… key' },
      SECURITY.proxyKey,
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Platform-Key' }, SECURITY.platform)
    .build();
  for (const name of TAGS) config.tags = [...(config.tags ?? []), { name }];
  const document = SwaggerModule.createDocument(app, config);
  // Every `*_id` path parameter is a UUID (UuidParam enforces it); say so in one place.
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      for (const param of (
        operation as { parameters?: { in: string; name: string; schema?: object }[] }
      ).parameters ?? []) {
        if (param.in === 'path' && param.name.endsWith('_id'))
          param.schema = { type: 'string', format: 'uuid' };
      }
    }
  }
  return document;
}

export function mountDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), {
    jsonDocumentUrl: 'openapi.json',
    swaggerOptions: { persistAuthorization: true },
  });
}
