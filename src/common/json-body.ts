import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { RequestValidationError } from './errors';

export const BODY_LIMIT = 1024 * 1024;
/** Deeper than any document of ours; bounds every recursive walk of a body. */
export const MAX_JSON_DEPTH = 64;

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
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_request, body: string, done) => {
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
