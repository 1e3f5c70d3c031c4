import { Credential } from './routes';
import { FuzzRequest } from './world';

/**
 * Bugs the fuzzer found, now fixed: each minimal reproduction is replayed by a named test in
 * fuzz.spec.ts, so a bug that comes back is named, not only caught by a random case.
 */
export interface FoundBug {
  id: string;
  title: string;
  /** The minimal request; the test adds a valid credential of this kind. */
  repro: FuzzRequest;
  credential: Credential;
  /** What the fixed API answers. */
  status: number;
}

export const FOUND_BUGS: FoundBug[] = [
  {
    id: 'BUG-1',
    title:
      'a JSON body nested 10,000 levels deep overflowed the stack in WirePipe: was 500, now 422',
    repro: {
      kind: 'deep-body',
      method: 'POST',
      url: '/v1/customers',
      headers: { 'content-type': 'application/json' },
      payload: `{"name":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    },
    credential: 'dashboard',
    status: 422,
  },
  {
    id: 'BUG-2',
    title:
      "a malformed percent-encoding in the path ('%', '%zz') got Fastify's own 400 body; now the wire format",
    repro: { kind: 'bad-path', method: 'GET', url: '/v1/customers/%', headers: {} },
    credential: 'dashboard',
    status: 422,
  },
  {
    id: 'BUG-3',
    title:
      "a path parameter over 100 characters got Fastify's own 414 body; now it reaches the UUID check (422)",
    repro: {
      kind: 'bad-path',
      method: 'GET',
      url: `/v1/customers/${'x'.repeat(101)}`,
      headers: {},
    },
    credential: 'dashboard',
    status: 422,
  },
  {
    id: 'BUG-4',
    title:
      'a lone UTF-16 surrogate in an email (person email, email binding address) threw URIError in validator.isEmail: was 500, now 422',
    repro: {
      kind: 'nasty-string',
      method: 'POST',
      url: '/v1/customers/{customer_id}/persons',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a","email":"\\ud800"}',
    },
    credential: 'dashboard',
    status: 422,
  },
  {
    id: 'BUG-5',
    title:
      'a lone UTF-16 surrogate in a free-form JSON field (workflow_state, actions, serialized_intent, …) was refused by PostgreSQL jsonb (22P02): was 500, now 422',
    repro: {
      kind: 'nasty-string',
      method: 'POST',
      url: '/v1/rules',
      headers: { 'content-type': 'application/json' },
      payload:
        '{"name":"r","trigger_event":"skill.invoked","actions":[{"type":"block","reason":"\\ud800"}]}',
    },
    credential: 'dashboard',
    status: 422,
  },
];
