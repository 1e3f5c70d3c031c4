import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { RequestValidationError } from './errors';

export const BODY_LIMIT = 1024 * 1024;
/** Deeper than any document of ours; bounds every recursive walk of a body. */
export const MAX_JSON_DEPTH = 64;
/**
 * More than any body within the documents' caps can hold (320 KiB of them in the largest, at
 * three bytes a value as stored: about 110,000), and under a third of what a MiB of JSON can
 * (half a million): each value costs the parser and every walk after it, so a body of tiny
 * values held the event loop for ten times as long as one long string of the same size.
 */
export const MAX_JSON_VALUES = 150_000;

/**
 * How deeply the JSON text nests and about how many values it holds (separators and opened
 * containers, an upper bound), counted outside strings in one pass over its bytes before it is
 * decoded: in UTF-8 no byte of a multi-byte character is an ASCII one.
 */
function shapeOf(bytes: Buffer): { depth: number; values: number } {
  let depth = 0;
  let deepest = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x2c) values++;
    else if (c === 0x7b || c === 0x5b) {
      values++;
      deepest = Math.max(deepest, ++depth);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { depth: deepest, values };
}

/** Bodies above this are parsed only once their caller is known (see LargeJsonBody). */
export const LARGE_BODY = 64 * 1024;

/**
 * A JSON body too large to parse before knowing who sent it: at a megabyte, JSON.parse alone
 * holds the event loop for 25-150 ms (measured), so it waits for authentication (a stranger's
 * is never parsed) and for the tenant's turn (TenantAdmission.holdForLargeBody), then `parse`
 * gives the value, or throws the 422 the parser would have.
 */
export class LargeJsonBody {
  constructor(readonly bytes: Buffer) {}

  parse(): unknown {
    return parseJson(this.bytes);
  }
}

/**
 * A body as JSON, or the wire format's 422: malformed JSON with the position, as the existing
 * clients expect, instead of Fastify's 400; an empty body as "no fields", so that required
 * fields are reported; `__proto__`/`constructor` keys dropped.
 */
function parseJson(bytes: Buffer): unknown {
  const shape = shapeOf(bytes);
  if (shape.depth > MAX_JSON_DEPTH) {
    throw RequestValidationError.at(
      ['body'],
      `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      'json_invalid',
    );
  }
  if (shape.values > MAX_JSON_VALUES) {
    throw RequestValidationError.at(
      ['body'],
      `JSON body with more than ${MAX_JSON_VALUES.toLocaleString('en')} values`,
      'json_too_large',
    );
  }
  // JSON is UTF-8 (RFC 8259 §8.1), checked strictly: read as a string, Node replaced a bad byte
  // with U+FFFD, which changed a chunked body silently and made a sized one fail Fastify's
  // Content-Length check with a misleading 400. A byte order mark stays, for the parser to
  // refuse as before. (TextDecoder's fatal mode did the same at ten times the cost.)
  if (!isUtf8(bytes)) {
    throw RequestValidationError.at(['body'], 'The body is not valid UTF-8', 'json_invalid');
  }
  const body = bytes.toString('utf8');
  if (body.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = sjson.parse(body, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch (error) {
    const position = /position (\d+)/.exec(String((error as Error).message));
    throw RequestValidationError.at(
      ['body', position ? Number(position[1]) : 0],
      'JSON decode error',
      'json_invalid',
    );
  }
  // Every body is an object; `null` said so no more than `[]` does (an empty body is no fields).
  if (parsed === null) {
    throw RequestValidationError.at(
      ['body'],
      'Input should be a valid dictionary or object',
      'model_attributes_type',
    );
  }
  return parsed;
}

/**
 * A body HydraCore could only misread: compressed (it would be read as bytes of JSON), or in a
 * charset other than UTF-8 (JSON's only one, RFC 8259 §8.1). 415 says what to send instead.
 */
function unreadable(headers: IncomingHttpHeaders): boolean {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return true;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers['content-type'] ?? '')?.[1];
  return charset !== undefined && !/^utf-?8$/i.test(charset);
}

/**
 * Our own application/json parser (see parseJson); a large body is left for later, as a
 * LargeJsonBody. Fastify still enforces the 1 MiB limit (413) before this runs.
 */
export function registerJsonParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (request, bytes: Buffer, done) => {
      if (unreadable(request.headers)) {
        return done(new UnsupportedMediaTypeException(), undefined);
      }
      if (bytes.length > LARGE_BODY) return done(null, new LargeJsonBody(bytes));
      try {
        done(null, parseJson(bytes));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

/** Parses a body left for later (LargeJsonBody) in place; throws its 422. */
export function readLargeBody(request: { body?: unknown }): void {
  if (request.body instanceof LargeJsonBody) request.body = request.body.parse();
}
