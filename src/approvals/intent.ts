import { createHash, randomInt } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace. Two requests that mean the
 * same thing serialise (and hash) the same, whatever order their keys came in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the approver saw and what replay will run: the same bytes, so the same hash. */
export const intentHash = (skillSlug: string, action: string, serializedIntent: object) =>
  sha256(canonicalJson({ action, serialized_intent: serializedIntent, skill_slug: skillSlug }));

/** Letters and digits without 0/O and 1/I, so a reference survives being read aloud. */
export const REF_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const REF_LENGTH = 8; // 32^8 ≈ 1.1e12 references per tenant

export function approvalRef(): string {
  let ref = 'APR-';
  for (let i = 0; i < REF_LENGTH; i++) ref += REF_ALPHABET[randomInt(REF_ALPHABET.length)];
  return ref;
}
