import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

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
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The admin token' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A tenant API key, ak_...' }, 'tenant')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
}
