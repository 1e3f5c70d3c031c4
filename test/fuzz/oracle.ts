import { FuzzRequest, FuzzResponse } from './world';

/**
 * What must hold for every fuzzed request, whatever it was (the wire format):
 * - never a 5xx (and no 1xx/3xx either: nothing here redirects);
 * - a 4xx is JSON of exactly `{"detail": …}`: for 422 a non-empty list of `{loc, msg, type}`
 *   whose `loc` starts with body, path or query; for any other status a non-empty sentence;
 * - a 401 says `WWW-Authenticate: Bearer`;
 * - a 2xx other than 204 is JSON, and a 204 has no body.
 * Returns the broken promises, empty when the response is fine.
 */
export function wireProblems(res: FuzzResponse): string[] {
  const { status } = res;
  if (status >= 500) return [`server error ${status}`];
  if (status < 200 || (status >= 300 && status < 400)) return [`unexpected status ${status}`];
  if (status === 204) return res.text === '' ? [] : ['204 with a body'];
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) return [`content-type "${type}" is not JSON`];
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return ['body is not JSON'];
  }
  if (status < 300) return [];
  const problems: string[] = [];
  if (status === 401 && res.headers['www-authenticate'] !== 'Bearer')
    problems.push('401 without WWW-Authenticate: Bearer');
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return [...problems, 'error body is not an object'];
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'detail')
    return [...problems, `error body keys are [${keys.join(', ')}], not [detail]`];
  const detail = (body as { detail: unknown }).detail;
  if (status === 422) {
    if (!Array.isArray(detail) || detail.length === 0)
      return [...problems, '422 detail not a list'];
    detail.forEach((entry, i) => problems.push(...fieldErrorProblems(entry, i)));
  } else if (typeof detail !== 'string' || detail.trim() === '') {
    problems.push(`${status} detail is not a sentence`);
  }
  return problems;
}

function fieldErrorProblems(entry: unknown, i: number): string[] {
  if (entry === null || typeof entry !== 'object') return [`detail[${i}] is not an object`];
  const e = entry as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'loc,msg,type') problems.push(`detail[${i}] keys are ${keys}`);
  const loc = e.loc;
  if (
    !Array.isArray(loc) ||
    !['body', 'path', 'query'].includes(loc[0] as string) ||
    !loc.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isInteger(x)))
  ) {
    problems.push(`detail[${i}].loc ${JSON.stringify(loc)} is not [body|path|query, …]`);
  }
  if (typeof e.msg !== 'string' || e.msg === '') problems.push(`detail[${i}].msg is not text`);
  if (typeof e.type !== 'string' || e.type === '') problems.push(`detail[${i}].type is not text`);
  return problems;
}

/** A failure message short enough to read and complete enough to replay the request by hand. */
export function describeCase(req: FuzzRequest, res: FuzzResponse, problems: string[]): string {
  return [
    problems.join('; '),
    `request (${req.kind}): ${req.method} ${clip(req.url, 300)}`,
    `  headers: ${JSON.stringify(redact(req.headers))}`,
    req.payload === undefined
      ? '  no body'
      : `  body (${req.payload.length} chars): ${clip(JSON.stringify(req.payload), 600)}`,
    `response: ${res.status} ${clip(res.text, 600)}`,
  ].join('\n');
}

/** Credentials are per-run test secrets, but a report has no use for them. */
function redact(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = /authorization|api-key|platform-key/i.test(k) ? `${v.slice(0, 12)}…` : v;
  }
  return out;
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (+${text.length - max} chars)`;
}
