import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { RequestValidationError } from './errors';

export const BODY_LIMIT = 1024 * 1024;
/** Deeper than any document of ours; bounds every recursive walk of a body. */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON is UTF-8 (RFC 8259 §8.1). Decoded strictly, as bytes: read as a string, Node replaced a
 * bad byte with U+FFFD, which changed a chunked body silently and made a sized one fail
 * Fastify's Content-Length check with a misleading 400. A byte order mark is kept, and refused
 * by the parser as before.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** How deeply the JSON text nests, counting brackets outside strings, in one pass. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/**
 * Our own application/json parser: malformed JSON becomes the wire format's 422 (with the
 * position, as the existing clients expect) instead of Fastify's 400, an empty body reads as
 * "no fields" so required fields are reported, and `__proto__`/`constructor` keys are dropped.
 * Fastify still enforces the 1 MiB limit (413) before this runs.
 */
export function registerJsonParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (_request, bytes: Buffer, done) => {
      let body: string;
      try {
        body = UTF8.decode(bytes);
      } catch {
        return done(
          RequestValidationError.at(['body'], 'The body is not valid UTF-8', 'json_invalid'),
          undefined,
        );
      }
      if (body.trim() === '') return done(null, undefined);
      if (nestingDepth(body) > MAX_JSON_DEPTH) {
        return done(
          RequestValidationError.at(
            ['body'],
            `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
            'json_invalid',
          ),
          undefined,
        );
      }
      try {
        done(
          null,
          sjson.parse(body, undefined, { protoAction: 'remove', constructorAction: 'remove' }),
        );
      } catch (error) {
        const position = /position (\d+)/.exec(String((error as Error).message));
        done(
          RequestValidationError.at(
            ['body', position ? Number(position[1]) : 0],
            'JSON decode error',
            'json_invalid',
          ),
          undefined,
        );
      }
    },
  );
}
