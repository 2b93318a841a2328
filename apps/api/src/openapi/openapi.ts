import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { errorBodySchema } from '../errors/api-errors.decorator.js';
import { openApiSchema } from '../validation/zod-openapi.js';

/**
 * Serves the OpenAPI document at /openapi.json and a docs UI at /docs. The UI's
 * assets come from the swagger-ui-dist package, so it works with no network.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Airlock API')
    .setDescription(
      'Run tenants\' WebAssembly plugins in a limited sandbox on every event. Admin routes take the admin ' +
        'token; tenant routes take a tenant API key (`ak_...`). Errors are `{"error": {"code", "message", ' +
        '"details"?}, "requestId"}`.',
    )
    .setVersion('1')
    // Opaque tokens: without a format of their own, the document would call them JWTs (Nest's default).
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque admin token', description: 'The admin token' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque API key (ak_...)', description: 'A tenant API key, ak_...' }, 'tenant')
    .build();
  const document = withBodyRefusals(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
}

/**
 * Every route that takes a body answers 415 to a body that is not JSON (jsonBodiesMiddleware) and 413 to one over
 * its limit (body-limits.ts): said in each that does not say it already.
 */
function withBodyRefusals(document: OpenAPIObject): OpenAPIObject {
  const refusals = {
    '413': 'The body is larger than this route takes (most take 256 KiB; versions, calls and bindings more).',
    '415': 'The body is not JSON: send it with Content-Type: application/json.',
  };
  for (const path of Object.values(document.paths)) {
    for (const operation of [path.post, path.put, path.patch, path.delete]) {
      if (operation?.requestBody === undefined) continue;
      for (const [status, description] of Object.entries(refusals)) {
        operation.responses[status] ??= { description, content: { 'application/json': { schema: openApiSchema(errorBodySchema) as never } } };
      }
    }
  }
  return document;
}
