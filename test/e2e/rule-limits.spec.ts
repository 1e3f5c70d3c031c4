import { jsonBytes } from '../../src/common/json-limits';
import { TenantSession } from '../helpers/factories';
import { RuleWorld, ruleCalls, ruleWorld } from '../helpers/rule-world';

/** The numbers the limits are published with: pinned here, not read from the code. */
const MAX_RULES = 1000;
const MAX_CONDITIONS = 50;
const MAX_ACTIONS = 10;
const MAX_VALUES = 100;
const MAX_CHARS = 1000;
const MAX_RULE_BYTES = 16 * 1024;
const MAX_RESPONSE_BYTES = 30 * 1024 * 1024;

const bytes = jsonBytes; // as stored: the cap's own measure
const long = (n: number, tag = '') => tag + 'x'.repeat(n - tag.length);
const block = [{ type: 'block', reason: 'limits' }];

/** Conditions that take, with `actions`, exactly `target` bytes: an `in` list of long names. */
function conditionsOfSize(target: number, actions: object[] = block) {
  const values: string[] = [];
  const conditions = [{ field: 'skill_slug', operator: 'in', value: values }];
  const size = () => bytes(conditions) + bytes(actions);
  while (size() + MAX_CHARS + 4 <= target) values.push(long(MAX_CHARS, `v${values.length}-`));
  if (target - size() < 5) values[values.length - 1] = values[values.length - 1].slice(5);
  values.push('y'.repeat(target - size() - 4)); // a quoted string and the ", " before it
  expect(size()).toBe(target);
  return conditions;
}

describe('rule limits', () => {
  let world: RuleWorld;
  let { t, a } = {} as RuleWorld;

  beforeAll(async () => {
    // Four reads of the largest rule set at once weigh over 100 MiB. They take turns (one large
    // response a tenant at a time) and are paced; on a busy machine the fourth waited past its
    // limit, which is a statement's timeout, and was told to retry (429). Pace and turns have
    // tests of their own; here both are set out of the way of the memory this measures.
    world = await ruleWorld({
      TENANT_DOCUMENT_BYTES_PER_SECOND: String(1024 * 1024 * 1024),
      DB_STATEMENT_TIMEOUT_MS: '60000',
    });
    ({ t, a } = world);
  });
  afterAll(() => world.t.close());

  const { create, rule, count } = ruleCalls(() => world);

  /** Refused at `loc` with 422, and not a rule more stored anywhere. */
  const refused = async (body: object, loc: (string | number)[], type?: string) => {
    const before = await count();
    const res = await create(body);
    expect(res.status).toBe(422);
    expect(res.body.detail).toEqual([
      { loc, msg: expect.any(String), type: type ?? expect.any(String) },
    ]);
    expect(await count()).toBe(before);
    return res.body.detail[0].msg as string;
  };
  const amountIs = (i: number) => ({ field: 'amount', operator: 'gte', value: i });

  it(`takes ${MAX_CONDITIONS} conditions and refuses one more`, async () => {
    const conditions = Array.from({ length: MAX_CONDITIONS }, (_, i) => amountIs(i));
    expect((await rule({ conditions })).conditions).toHaveLength(MAX_CONDITIONS);
    const msg = await refused(
      { conditions: [...conditions, amountIs(0)] },
      ['body', 'conditions'],
      'too_long',
    );
    expect(msg).toContain(String(MAX_CONDITIONS));
  });

  it(`takes ${MAX_ACTIONS} actions and refuses one more`, async () => {
    const actions = Array.from({ length: MAX_ACTIONS }, () => block[0]);
    expect((await rule({ actions })).actions).toHaveLength(MAX_ACTIONS);
    await refused({ actions: [...actions, block[0]] }, ['body', 'actions'], 'too_long');
  });

  it(`takes ${MAX_VALUES} values in an in or not_in list and refuses one more, at the condition`, async () => {
    const list = Array.from({ length: MAX_VALUES }, (_, i) => i);
    const conditions = [0, 1, 2].map(amountIs);
    await rule({ conditions: [...conditions, { field: 'amount', operator: 'in', value: list }] });
    for (const operator of ['in', 'not_in'])
      await refused(
        { conditions: [...conditions, { field: 'amount', operator, value: [...list, 100] }] },
        ['body', 'conditions', 3, 'value'],
        'too_long',
      );
  });

  it(`takes strings of ${MAX_CHARS} characters in condition values and actions, and refuses longer`, async () => {
    const at = long(MAX_CHARS);
    const over = long(MAX_CHARS + 1);
    const eq = (value: unknown) => ({ field: 'requested_by', operator: 'eq', value });
    const inList = (value: unknown) => ({ field: 'requested_by', operator: 'in', value });
    const notify = (message: string) => [{ type: 'notify', to: 'ops', message }];
    await rule({ conditions: [eq(at), inList(['a', at])], actions: notify(at) });
    await refused(
      { conditions: [amountIs(1), eq(over)] },
      ['body', 'conditions', 1, 'value'],
      'string_too_long',
    );
    await refused(
      { conditions: [inList(['a', over])] },
      ['body', 'conditions', 0, 'value'],
      'string_too_long',
    );
    await refused({ actions: notify(over) }, ['body', 'actions', 0, 'message'], 'string_too_long');
  });

  it(`takes ${MAX_RULE_BYTES} bytes of conditions and actions, and refuses one more, after a PATCH merges too`, async () => {
    const actions = [{ type: 'notify', to: 'ops', message: 'big' }];
    const atCap = conditionsOfSize(MAX_RULE_BYTES, actions);
    const stored = await rule({ conditions: atCap, actions });
    expect(bytes(stored.conditions) + bytes(stored.actions)).toBe(MAX_RULE_BYTES);
    const msg = await refused(
      { conditions: conditionsOfSize(MAX_RULE_BYTES + 1, actions), actions },
      ['body', 'conditions'],
    );
    expect(msg).toContain(String(MAX_RULE_BYTES));

    // The stored conditions with one more byte of action: the action is what pushed it over.
    const patch = (body: object) =>
      t.http().patch(`/v1/rules/${stored.id}`).set(a.admin).send(body);
    const res = await patch({ actions: [{ ...actions[0], message: 'big!' }] });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['body', 'actions']);
    const row = await t.raw.query('SELECT actions, conditions FROM rules WHERE id = $1', [
      stored.id,
    ]);
    expect(row.rows[0]).toEqual({ actions, conditions: atCap });
    // Within the cap a PATCH merges as before.
    expect((await patch({ name: 'renamed' }).expect(200)).body.name).toBe('renamed');
    await patch({ actions: [{ ...actions[0], message: 'bi' }] }).expect(200);
  });

  it(`holds a tenant to ${MAX_RULES} rules under concurrent creates (409), others unaffected`, async () => {
    const z = await TenantSession.create(t, 'Full');
    const seeded = MAX_RULES - 5;
    await t.raw.query(
      `INSERT INTO rules (tenant_id, name, trigger_event, actions)
       SELECT $1, 'seed ' || g, 'skill.invoked', '[{"type":"block","reason":"seed"}]'
         FROM generate_series(1, $2::int) g`,
      [z.tenantId, seeded],
    );
    const race = await Promise.all(
      Array.from({ length: 20 }, (_, i) => create({ name: `race ${i}` }, z.admin)),
    );
    const statuses = race.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(5).fill(201), ...Array(15).fill(409)]);
    const stored = async () =>
      Number(
        (await t.raw.query('SELECT count(*) FROM rules WHERE tenant_id = $1', [z.tenantId])).rows[0]
          .count,
      );
    expect(await stored()).toBe(MAX_RULES);
    const full = await create({}, z.admin).expect(409);
    expect(full.body).toEqual({ detail: expect.stringContaining(String(MAX_RULES)) });
    // Deleting one makes room for one; another tenant never noticed.
    const one = race.find((r) => r.status === 201)!.body.id;
    await t.http().delete(`/v1/rules/${one}`).set(z.admin).expect(204);
    await create({}, z.admin).expect(201);
    await create({}, z.admin).expect(409);
    await rule();
    expect(await stored()).toBe(MAX_RULES);
  });

  it('answers four concurrent member reads of the largest rule set, in bounded size and memory', async () => {
    const h = await TenantSession.create(t, 'Heavy');
    const member = h.member();
    // What used to be accepted and took the process down: rules of large `in` lists.
    const huge = Array.from({ length: 9 }, () => ({
      field: 'skill_slug',
      operator: 'in',
      value: Array.from({ length: MAX_VALUES }, (_, i) => long(MAX_CHARS, `${i}-`)),
    }));
    const attack = await create({ conditions: huge }, h.admin);
    expect(attack.status).toBe(422);
    expect(attack.body.detail[0].loc).toEqual(['body', 'conditions']);

    // The most a tenant can store instead: every rule at the byte cap, every other field at
    // its longest and in the characters JSON spells longest.
    const widest = '\u0001';
    const template = await rule({}); // any rule of tenant A, copied into H below
    const conditions = conditionsOfSize(MAX_RULE_BYTES, block);
    await t.raw.query(
      `INSERT INTO rules (tenant_id, name, description, rule_key, trigger_event, conditions, actions)
       SELECT $1, repeat($2, 200), repeat($2, 2000), repeat($2, 100), r.trigger_event, $3, $4
         FROM rules r, generate_series(1, $5::int) WHERE r.id = $6`,
      [
        h.tenantId,
        widest,
        JSON.stringify(conditions),
        JSON.stringify(block),
        MAX_RULES,
        template.id,
      ],
    );

    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 2);
    // The client counts bytes and keeps none, so the heap measured is the server's.
    const read = () =>
      t
        .http()
        .get('/v1/rules')
        .set(member)
        .buffer(true)
        .parse((res, done) => {
          let n = 0;
          res.on('data', (chunk: Buffer) => (n += chunk.length));
          res.on('end', () => done(null, n));
        });
    const reads = await Promise.all([read(), read(), read(), read()]);
    clearInterval(sampler);
    const growth = peak - before;
    for (const r of reads) {
      expect(r.status).toBe(200);
      expect(r.body).toBeGreaterThan(MAX_RULES * MAX_RULE_BYTES); // the whole set, not a page
      expect(r.body).toBeLessThan(MAX_RESPONSE_BYTES);
    }
    // Four answers in flight at once, each held as rows, objects and text: a few times its size
    // (garbage not yet collected included), far from the 512 MB the process is given.
    expect(growth).toBeLessThan(4 * 4 * reads[0].body);
    await t.http().get('/readyz').expect(200);
    console.log(
      `rule set of ${MAX_RULES} rules: ${(reads[0].body / 2 ** 20).toFixed(1)} MiB a response, heap +${(growth / 2 ** 20).toFixed(0)} MiB for four at once`,
    );
  });
});
