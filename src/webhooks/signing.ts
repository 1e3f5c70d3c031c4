import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new signing secret in the Standard Webhooks form: `whsec_` and base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** What an endpoint's sealed secrets are bound to: one copied into another row does not open. */
export const secretBinding = (tenantId: string, endpointId: string) =>
  `webhook:${tenantId}:${endpointId}`;

/**
 * The Standard Webhooks 1.0 headers of one attempt: the message id (the event's, the same on
 * every attempt, so a receiver can tell a retry), the attempt's time, and one `v1` signature per
 * active secret, space-separated, so a receiver holding either secret verifies it during a
 * rotation. Signed by the reference library, as receivers verify.
 */
export function signedHeaders(
  messageId: string,
  body: string,
  secrets: readonly string[],
  at = new Date(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets
      .map((secret) => new Webhook(secret).sign(messageId, at, body))
      .join(' '),
  };
}
