import { OutboxRelay, signature } from '../../src/outbox/outbox-relay';
import { OutboxRepository } from '../../src/outbox/outbox.repository';
import {
  ApprovalWorld,
  INTENT as intent,
  SECRET,
  approvalCalls,
  approvalWorld,
  closeApprovalWorld,
} from '../helpers/approval-world';

describe('approvals', () => {
  let world: ApprovalWorld;
  let { t, a, hook } = {} as ApprovalWorld;

  beforeAll(async () => {
    world = await approvalWorld();
    ({ t, a, hook } = world);
  });
  afterAll(() => closeApprovalWorld(world));

  const { pending, resolve, outbox } = approvalCalls(() => world);

  describe('outbox relay', () => {
    const relay = () => t.app.get(OutboxRelay);
    const approved = async () => {
      const p = await pending();
      await resolve(p.approval_ref).expect(200);
      return p;
    };

    it('delivers approved intents signed, with a timestamp and a stable Idempotency-Key', async () => {
      hook.received.length = 0;
      const p = await approved();
      await relay().runOnce();
      const [delivery] = hook.received.filter((r) => JSON.parse(r.body).approval_id === p.id);
      const [message] = await outbox(p.id);
      expect(delivery.headers['idempotency-key']).toBe(message.id);
      const ts = delivery.headers['x-hydracore-timestamp'] as string;
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
      expect(delivery.headers['x-hydracore-signature']).toBe(signature(SECRET, ts, delivery.body));
      expect(JSON.parse(delivery.body)).toMatchObject({
        kind: 'approval.replay',
        intent_hash: p.intent_hash,
        serialized_intent: intent,
      });
      expect(message).toMatchObject({ status: 'delivered', attempts: 1 });
      const listed = await t
        .http()
        .get(`/v1/approvals?status=approved&limit=200`)
        .set(a.admin)
        .expect(200);
      expect(listed.body.approvals.find((x: { id: string }) => x.id === p.id)).toMatchObject({
        replay_status: 'delivered',
        replay_attempts: 1,
      });
    });

    it('retries after a 500 with the same Idempotency-Key', async () => {
      hook.received.length = 0;
      const p = await approved();
      hook.statuses.push(500);
      await relay().runOnce();
      expect((await outbox(p.id))[0]).toMatchObject({
        status: 'pending',
        attempts: 1,
        last_error: 'HTTP 500',
      });
      await new Promise((r) => setTimeout(r, 20));
      await relay().runOnce();
      const keys = hook.received.map((r) => r.headers['idempotency-key']);
      expect(keys).toHaveLength(2);
      expect(new Set(keys).size).toBe(1);
      expect((await outbox(p.id))[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    });

    it('marks a message dead after the last attempt', async () => {
      const p = await approved();
      hook.statuses.push(500, 502, 503);
      for (let i = 0; i < 3; i++) {
        await relay().runOnce();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await outbox(p.id))[0]).toMatchObject({ status: 'dead', attempts: 3 });
      const before = hook.received.length;
      await relay().runOnce();
      expect(hook.received.length).toBe(before);
    });

    it('redelivers with the same Idempotency-Key when it died between delivery and marking', async () => {
      hook.received.length = 0;
      const p = await approved();
      const repo = t.app.get(OutboxRepository);
      const crash = jest
        .spyOn(repo, 'markDelivered')
        .mockRejectedValueOnce(new Error('process killed'));
      // One tenant's failure is logged and the pass goes on to the next tenant: none handled.
      await expect(relay().runOnce()).resolves.toBe(0);
      crash.mockRestore();
      expect((await outbox(p.id))[0].status).toBe('pending');
      await new Promise((r) => setTimeout(r, 80)); // the claim's lease runs out
      await relay().runOnce();
      const keys = hook.received.map((r) => r.headers['idempotency-key']);
      expect(keys).toHaveLength(2);
      expect(keys[0]).toBe(keys[1]);
      expect((await outbox(p.id))[0]).toMatchObject({ status: 'delivered' });
    });
  });
});
