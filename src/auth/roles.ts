/**
 * What a credential may do inside its tenant. Authorisation decides with it (the guards, the
 * principal), so it lives here; the directory stores it on API keys and validates it on input.
 */
export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
