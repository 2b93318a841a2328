import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { logCorrelation } from '@airlock/telemetry';
import type { Request } from 'express';
import { LoggerModule } from 'nestjs-pino';
import { requestIdOf } from '../errors/request-id.middleware.js';

/**
 * Service logs as JSON lines (pino), one per request plus what the code logs,
 * each with requestId, tenantId and traceId when known. Requests are logged by
 * method, route path and status only: never headers (credentials), queries or
 * bodies (payloads).
 */
@Module({})
export class LoggingModule {
  static register(config: AirlockConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            base: { service: 'airlock-api' },
            mixin: logCorrelation,
            genReqId: (request: IncomingMessage) => requestIdOf(request as Request),
            customProps: (request: IncomingMessage) => ({ requestId: requestIdOf(request as Request) }),
            serializers: {
              req: (request: { method: string; url: string }) => ({ method: request.method, path: request.url.split('?')[0] }),
              res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
            },
            // Health probes every few seconds would drown the rest.
            autoLogging: { ignore: (request: IncomingMessage) => request.url === '/healthz' || request.url === '/readyz' },
          },
        }),
      ],
    };
  }
}
