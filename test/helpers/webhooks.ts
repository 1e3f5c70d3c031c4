import { EventSequencer } from '../../src/event-log/event-sequencer';
import { EventEvaluator } from '../../src/events/event-evaluator';
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
 * a before-and-after needs. A fan-out pass the sequencer woke is waited for too: once its commit
 * shows, `runOnce` finds nothing to do, yet its kick of the dispatcher comes only after.
 */
export async function settleWebhooks(t: TestApp): Promise<void> {
  const fanout = t.app.get(WebhookFanout);
  await t.app.get(EventSequencer).sweep();
  while ((await fanout.runOnce()) > 0);
  await fanout.settled();
  await t.app.get(WebhookDispatcher).settled();
}

/**
 * Everything the app does in the background after a call, run to its end: numbering, rules on
 * raised events (which may raise more), and webhooks. Suites that compare the database before
 * and after a call take it first, so that work on earlier events is not taken for the call's.
 */
export async function settleBackground(t: TestApp): Promise<void> {
  const evaluator = t.app.get(EventEvaluator);
  let evaluated: number;
  do {
    // Until a round finds nothing: what was evaluated may have raised events to number.
    await t.app.get(EventSequencer).sweep();
    evaluated = (await evaluator.runOnce()) + (await evaluator.settled());
  } while (evaluated > 0);
  await settleWebhooks(t);
}
