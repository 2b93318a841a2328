import type { IncomingMessage, ServerResponse } from 'node:http';
import { logCorrelation } from './log-correlation.js';

/**
 * The pino-http options of every Airlock process: JSON lines, one per request
 * plus what the code logs, each with its trace and tenant when known (see
 * logCorrelation). Requests are logged by method, path and status only: never
 * headers (credentials), queries or bodies (payloads).
 *
 * nestjs-pino keeps one pino-http instance per process, made by the first
 * LoggerModule to log: in a process that runs the API and the worker, requests
 * are logged with whichever options came first. So the worker's must be as
 * safe as the API's (they once logged every header, the admin token included).
 */
export function serviceLogOptions(service: string, level: string, requestIdOf?: (request: IncomingMessage) => string) {
  return {
    level,
    base: { service },
    mixin: logCorrelation,
    ...(requestIdOf === undefined
      ? {}
      : {
          genReqId: (request: IncomingMessage) => requestIdOf(request),
          // The id is bound once, as the request's logger is made: `customProps` would bind it again on a child logger
          // of its own and once more as the request ends, serializing it each time, on every request at any level.
          customAttributeKeys: { reqId: 'requestId' },
          quietReqLogger: true,
        }),
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, path: request.url.split('?')[0] }),
      res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
    },
    // Health probes every few seconds would drown the rest.
    autoLogging: { ignore: (request: IncomingMessage) => request.url === '/healthz' || request.url === '/readyz' },
  };
}
