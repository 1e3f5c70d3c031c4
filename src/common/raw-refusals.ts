import { IncomingMessage, ServerOptions, ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Refusals that Node's HTTP server makes before Fastify sees a request (an unparseable request,
 * headers past the size limit, a request that arrives too slowly, an Expect header we cannot
 * meet). Left to their defaults, these answer `{"error","message","statusCode"}` or an empty
 * body; here they get the same `{"detail": …}` as every other error.
 */

function body(detail: string): string {
  return JSON.stringify({ detail });
}

/** A whole HTTP/1.1 response, for a socket whose request never became an IncomingMessage. */
function rawResponse(status: number, detail: string): string {
  const json = body(detail);
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    // The parser is in an error state: nothing more can be read from this connection.
    'Connection: close',
    '',
    json,
  ].join('\r\n');
}

function refusal(code: string | undefined, requestTimeoutMs: number): [number, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        408,
        `Request timeout: the whole request must arrive within ${requestTimeoutMs / 1000} s`,
      ];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request header fields too large (at most 16 KiB in all)'];
    default:
      return [400, 'Bad request: not a well-formed HTTP/1.1 request'];
  }
}

/** Node's own check: a response already under way must not be corrupted by another. */
type ClientSocket = Socket & { _httpMessage?: { headersSent?: boolean } | null };

/**
 * For Fastify's `clientErrorHandler`. Unlike Fastify's default, it logs nothing: the parser's
 * error carries the raw bytes received (`rawPacket`), credentials included.
 */
export function clientErrorHandler(requestTimeoutMs: number) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const inFlight = (socket as ClientSocket)._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const [status, detail] = refusal(error.code, requestTimeoutMs);
      socket.write(rawResponse(status, detail));
    }
    socket.destroy(error);
  };
}

/**
 * For the server's `checkExpectation` event (an Expect header other than 100-continue), which
 * Node otherwise answers with a bare 417.
 */
export function refuseExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const json = body('Expectation failed: only "Expect: 100-continue" is supported');
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    connection: 'close',
  });
  response.end(json);
}

/**
 * Node's server options. Fastify sets `server.requestTimeout` after construction, leaving
 * Node's headersTimeout at 60 s; measured on Node 20, with that headersTimeout above a 1 s
 * requestTimeout a stalled body was still held 4 s later, and with it at most the
 * requestTimeout the body got its 408 on time. Node
 * looks for requests past their time every `connectionsCheckingInterval` (30 s by default, so a
 * 30 s limit could stretch to a minute); a tenth of the limit, within 0.1-1 s, keeps the
 * overrun small for a sweep over the open connections that costs next to nothing. Node answers
 * a missing Host header with an empty 400 of its own; `lacksHost` answers it instead.
 */
export function serverOptions(requestTimeoutMs: number): ServerOptions {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(requestTimeoutMs / 10))),
    requireHostHeader: false,
  };
}

export const MISSING_HOST = 'Bad request: an HTTP/1.1 request needs a Host header';

/** RFC 9112 §3.2: an HTTP/1.1 request without Host is refused, as Node would have. */
export function lacksHost(request: IncomingMessage): boolean {
  return request.httpVersion === '1.1' && !request.headers.host;
}
