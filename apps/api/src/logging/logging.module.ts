import type { IncomingMessage } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { serviceLogOptions } from '@airlock/telemetry';
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
      imports: [LoggerModule.forRoot({ pinoHttp: serviceLogOptions('airlock-api', config.logLevel, (request: IncomingMessage) => requestIdOf(request as Request)) })],
    };
  }
}
