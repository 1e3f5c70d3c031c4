import { EventSequencer } from '../../src/event-log/event-sequencer';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher';
import { WebhookFanout } from '../../src/webhooks/webhook-fanout';
import { TestApp } from './app';

/**
 * For suites that compare the database before and after a call (the isolation matrix, the
 * fuzzer): their endpoints point at loopback's discard port, refused at once, so an attempt ends
 * as soon as it starts; http and private networks are allowed for it, and a retry waits a
 * month, so no attempt lands in the middle of a call.
 */
export const QUIET_WEBHOOK_ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '30d',
};
export const REFUSING_WEBHOOK_URL = 'http://127.0.0.1:9/hooks';

/**
 * Numbers what has committed, then runs the webhook fan-out and the dispatcher to the end, as
 * a before-and-after needs.
 */
export async function settleWebhooks(t: TestApp): Promise<void> {
  await t.app.get(EventSequencer).sweep();
  while ((await t.app.get(WebhookFanout).runOnce()) > 0);
  await t.app.get(WebhookDispatcher).settled();
}
