import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { RequestValidationError } from './errors';

export const BODY_LIMIT = 1024 * 1024;

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
