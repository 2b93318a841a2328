import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module.js';
import { AppExceptionFilter } from './errors/app-exception.filter.js';
import { answerMalformedRequests } from './errors/malformed-requests.js';
import { requestIdMiddleware } from './errors/request-id.middleware.js';
import { requestTracingMiddleware } from './traces/request-tracing.middleware.js';
import { requestMetricsMiddleware } from './metrics/request-metrics.middleware.js';
import type { ApiDependencies } from './infrastructure/api-dependencies.js';
import { setupOpenApi } from './openapi/openapi.js';
import { serveWebEditor, webEditorDirectory } from './editor/web-editor.js';
import { credentialsBeforeBodies } from './auth/credentials-before-bodies.middleware.js';
import { TenantAuthenticator } from './auth/tenant-authenticator.service.js';
import { TenantPolicyService } from './policies/tenant-policy.service.js';
import { duplicateKeysMiddleware } from './validation/duplicate-keys.middleware.js';
import { jsonBodiesMiddleware, keepJsonBytes } from './validation/json-bodies.middleware.js';
import { limitBodyFor, limitedBodies } from './validation/body-limits.js';
import { legacyEncodingsMiddleware } from './validation/legacy-encodings.middleware.js';

export type { ApiDependencies } from './infrastructure/api-dependencies.js';

/** Builds the HTTP app on the connections it is given; the caller listens and closes. */
export async function createApiApp(deps: ApiDependencies): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.register(deps), {
    bodyParser: false,
    // Held until pino takes over, so even boot messages are JSON lines.
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.use(requestIdMiddleware);
  app.use(requestTracingMiddleware);
  app.use(requestMetricsMiddleware);
  // The web editor is a static build (apps/web); without one the API runs alone.
  const editor = webEditorDirectory();
  if (editor !== null) serveWebEditor(app, editor);
  const policies = app.get(TenantPolicyService);
  const limitBody = limitBodyFor((tenant) => policies.forTenant(tenant.principal.tenant), deps.config);
  app.use(credentialsBeforeBodies(app.get(TenantAuthenticator), deps.adminTokenHash, limitBody));
  app.use(jsonBodiesMiddleware);
  app.use(legacyEncodingsMiddleware);
  // Express's own parser rather than Nest's useBodyParser, which keeps `verify` to itself.
  app.use(limitedBodies(express.json, { verify: keepJsonBytes }, deps.config.bodyLimitBytes));
  app.use(duplicateKeysMiddleware);
  // Modules upload raw.
  app.use(limitedBodies(express.raw, { type: 'application/wasm' }, deps.config.moduleUploadLimitBytes));
  app.useGlobalFilters(new AppExceptionFilter(deps.config));
  setupOpenApi(app);
  await app.init();
  answerMalformedRequests(app.getHttpServer());
  return app;
}
