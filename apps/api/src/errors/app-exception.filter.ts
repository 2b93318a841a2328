// The filter is where HTTP exceptions raised by Nest itself are translated.
// eslint-disable-next-line no-restricted-imports
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { Prisma } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { Request, Response } from 'express';
import { allowedMethods } from './allowed-methods.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { ERROR_STATUS } from './error-status.js';
import { requestIdOf } from './request-id.middleware.js';
import { type BodyLimit, bodyLimitOf } from '../validation/body-limits.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
  requestId: string;
}

/** Errors raised by Nest or Express themselves (unknown route, body parser), by status. */
const CODE_BY_STATUS: Record<number, AppErrorCode> = {
  400: AppErrorCode.ValidationFailed,
  401: AppErrorCode.Unauthenticated,
  403: AppErrorCode.Forbidden,
  404: AppErrorCode.NotFound,
  413: AppErrorCode.PayloadTooLarge,
  415: AppErrorCode.UnsupportedMediaType,
};

/** What body-parser's errors say beyond their type: the charset or Content-Encoding refused. */
interface BodyParserError {
  type?: unknown;
  status?: number;
  code?: unknown;
  errno?: unknown;
  charset?: unknown;
  encoding?: unknown;
}

/** A name a client sent, shown safely: at most 40 characters, as a JSON string. */
const sentName = (value: unknown) => JSON.stringify(String(value).slice(0, 40));

/** body-parser's error `type`s, in words a caller can act on. */
const BODY_PARSER_MESSAGES: Record<string, (limit: BodyLimit, error: BodyParserError) => string> = {
  'entity.too.large': (limit) => `The request body is larger than the ${limit.bytes} bytes ${limit.whose}.`,
  'entity.parse.failed': () => 'The request body is not valid JSON.',
  'entity.encoding.invalid': () => 'The request body is not valid UTF-8: JSON bodies are UTF-8 text.',
  'entity.not.object': () => 'The request body is a bare JSON value; send a JSON object with the fields this route takes.',
  'encoding.unsupported': (_, error) => `The request body's Content-Encoding ${sentName(error.encoding)} is not one this server accepts: gzip (or x-gzip), deflate, br or none.`,
  'charset.unsupported': (_, error) =>
    `The request body's charset ${sentName(error.charset)} is not one this server reads: JSON bodies are UTF-8 (utf-8, or utf-16 or utf-32 declared as such).`,
  'request.aborted': () => 'The request was aborted before its body arrived.',
};

/** zlib's error codes (`Z_DATA_ERROR`, `Z_BUF_ERROR`) and brotli's (`ERR__ERROR_FORMAT_PADDING_1`). */
const ZLIB_CODE = /^(Z_[A-Z_]+|ERR__ERROR_[A-Z0-9_]+)$/;

/** An error of Node's zlib that body-parser passed on as a 400 (inflating a body), and nothing else. */
function isZlibError(error: { type?: unknown; status?: unknown; code?: unknown; errno?: unknown } | undefined): boolean {
  return error?.status === 400 && error.type === undefined && typeof error.errno === 'number' && typeof error.code === 'string' && ZLIB_CODE.test(error.code);
}

/** The router's error for a path whose percent-encoding does not decode (`%`, `%C0`), raised before any route. */
function isUndecodablePath(exception: unknown): boolean {
  const error = exception instanceof HttpException && exception.cause !== undefined ? exception.cause : exception;
  return error instanceof URIError || (exception instanceof Error && exception.message.startsWith('Failed to decode param '));
}

/**
 * The one place every error becomes a response:
 * `{"error": {"code", "message", "details"?}, "requestId"}`. Anything not known
 * to be safe to show is a bare 500; its stack goes to the log with the request id.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly limits: { bodyLimitBytes: number; moduleUploadLimitBytes: number }) {}

  /**
   * A 5xx in the service log. One the code raised on purpose or the database being away (a 503 that says so) is a
   * warning of one line, with what caused it: during an outage every request meets it, and its stack says nothing.
   * Anything else is a fault, logged with its stack.
   */
  private logFailure(exception: unknown, route: string, status: number, body: ErrorBody): void {
    const why = exception instanceof AppError ? exception.cause : isDatabaseUnavailable(exception) ? exception : undefined;
    if (exception instanceof AppError || why !== undefined) {
      const cause = why instanceof Error ? ` (${why.message})` : '';
      this.logger.warn(`${route} answered ${status} ${body.error.code}: ${body.error.message}${cause} (requestId ${body.requestId})`);
      return;
    }
    this.logger.error(`${route} failed (requestId ${body.requestId})`, exception instanceof Error ? exception.stack : String(exception));
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const requestId = requestIdOf(request);
    const limit = bodyLimitOf(request) ?? {
      bytes: request.is('application/wasm') ? this.limits.moduleUploadLimitBytes : this.limits.bodyLimitBytes,
      whose: 'this server accepts',
    };
    const { status, body } = this.describe(this.knownPathOtherMethod(exception, request, response) ?? exception, requestId, limit);
    if (status >= 500) this.logFailure(exception, `${request.method} ${request.path}`, status, body);
    if (status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    const retryAfter = (body.error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    if (!response.headersSent) response.status(status).json(body);
    // A stream (Server-Sent Events) that failed after its headers went out: it ends rather than hangs.
    else response.end();
  }

  /**
   * Nest's 404 for a request no route took, when routes serve its path with
   * other methods: a 405 naming them (and the Allow header) instead.
   */
  private knownPathOtherMethod(exception: unknown, request: Request, response: Response): AppError | undefined {
    if (!(exception instanceof NotFoundException) || !exception.message.startsWith(`Cannot ${request.method} `)) return undefined;
    const allowed = allowedMethods(request);
    if (allowed.length === 0) return undefined;
    response.setHeader('Allow', allowed.join(', '));
    return new AppError(AppErrorCode.MethodNotAllowed, `${request.method} is not served at ${request.path}; it takes ${allowed.join(', ')}.`, { details: { allowed } });
  }

  private describe(exception: unknown, requestId: string, bodyLimit: BodyLimit): { status: number; body: ErrorBody } {
    const respond = (status: number, code: string, message: string, details?: unknown) => ({
      status,
      body: { error: { code, message, ...(details === undefined ? {} : { details }) }, requestId },
    });
    if (exception instanceof AppError) {
      return respond(ERROR_STATUS[exception.code], exception.code, exception.message, exception.details);
    }
    if (isUndecodablePath(exception)) {
      return respond(400, AppErrorCode.ValidationFailed, 'The request path is not valid: each % in it must begin a percent-encoded UTF-8 character, such as %20.');
    }
    // Nest wraps body-parser's errors in an HttpException and keeps the original as the cause.
    const bodyParserError = (exception instanceof HttpException ? exception.cause : exception) as BodyParserError | undefined;
    // A body whose Content-Encoding (gzip, deflate, br) does not match its bytes fails in zlib, with zlib's words.
    if (isZlibError(bodyParserError)) {
      return respond(400, AppErrorCode.ValidationFailed, 'The request body could not be decompressed: its bytes are not what its Content-Encoding says, or are cut short.');
    }
    const describeBodyError = BODY_PARSER_MESSAGES[String(bodyParserError?.type)];
    if (describeBodyError !== undefined) {
      const status = bodyParserError?.status ?? 400;
      return respond(status, CODE_BY_STATUS[status] ?? AppErrorCode.ValidationFailed, describeBodyError(bodyLimit, bodyParserError ?? {}));
    }
    // Two requests raced on one row and the database settled it: this one lost, which is the caller's to know.
    if (exception instanceof Prisma.PrismaClientKnownRequestError) {
      if (exception.code === 'P2025') return respond(404, AppErrorCode.NotFound, 'Not found: another request deleted it meanwhile.');
      if (exception.code === 'P2002') return respond(409, AppErrorCode.Conflict, 'It already exists: another request created it meanwhile.');
      // A transaction that waited its turn too long (many writes of one thing at once): nothing was written.
      if (exception.code === 'P2028') return respond(503, AppErrorCode.NotReady, 'Busy: other requests were writing the same thing; nothing was written. Retry.');
    }
    if (isDatabaseUnavailable(exception)) {
      return respond(503, AppErrorCode.NotReady, 'The database is unavailable or dropped the connection meanwhile. Retry (an event with its idempotency key, so that it is recorded once).');
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      const status = exception.getStatus();
      return respond(status, CODE_BY_STATUS[status] ?? `http_${status}`, exception.message);
    }
    return respond(500, AppErrorCode.Internal, 'Internal error. Quote the requestId when reporting it.');
  }
}
