import type { MatrixRoute } from './routes';
import { World, freshPhone, make } from './world';

const internal = (w: World) => `/internal/v1/instances/${w.i1}`;

/** A live binding of customer 1, made by the runtime of instance 1: its address to look up. */
async function boundAddress(w: World): Promise<string> {
  const address = freshPhone();
  const res = await w.t
    .http()
    .post(`${internal(w)}/worker-bindings`)
    .set(w.headers.proxy_key_a_instance)
    .send({ customer_id: w.c1, person_id: w.p1, channel_type: 'sms', channel_address: address });
  if (res.status !== 201) throw new Error(`binding: ${res.status} ${JSON.stringify(res.body)}`);
  w.idsOfA.add(res.body.id);
  w.idsOfC1.add(res.body.id);
  return address;
}

export const RUNTIME_LOOKUP_ROUTES: MatrixRoute[] = [
  {
    route: 'GET /internal/v1/instances/{instance_id}/worker-bindings/lookup',
    access: 'internal',
    ok: 200,
    call: async (w) => ({
      url: `${internal(w)}/worker-bindings/lookup?channel_type=sms&address=${encodeURIComponent(
        await boundAddress(w),
      )}`,
    }),
  },
  {
    route: 'GET /internal/v1/instances/{instance_id}/channels',
    access: 'internal',
    ok: 200,
    call: async (w) => {
      await make.endpoint(w);
      return { url: `${internal(w)}/channels` };
    },
  },
];
