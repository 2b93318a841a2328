import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppErrorCode } from '@airlock/errors';

/** Node's answer to each kind of request it cannot parse, by its error code (the rest are 400). */
const STATUS_BY_ERROR: Record<string, { status: number; reason: string; code: AppErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', code: AppErrorCode.PayloadTooLarge, message: 'The request headers are larger than this server accepts.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: AppErrorCode.RequestTimeout, message: 'The request did not arrive in time.' },
};

/**
 * Requests Node's HTTP parser refuses (a control byte in a header, a malformed
 * request line, headers too large, too slow) never reach the app: Node answers
 * them with a bare status. This answers them like every other error, as JSON
 * with a code and a request id, and closes the connection.
 */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A connection the client reset, or one whose response has begun (a request pipelined behind a stream), is
    // closed without a word: an answer written now would land in the middle of that response.
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent === true) {
      socket.destroy();
      return;
    }
    const known = STATUS_BY_ERROR[error.code ?? ''];
    const { status, reason, code, message } = known ?? {
      status: 400,
      reason: 'Bad Request',
      code: AppErrorCode.ValidationFailed,
      message: `The request is not valid HTTP (${error.code ?? 'unparsable'}).`,
    };
    // The request id goes in the header too, as on every other answer.
    const requestId = randomUUID();
    const body = JSON.stringify({ error: { code, message }, requestId });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
