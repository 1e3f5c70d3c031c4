import fc from 'fast-check';
import { Schema } from './routes';
import { World } from './world';

/**
 * Valid (or valid-looking) values for one field, read from its OpenAPI schema. Field names with
 * a domain meaning the schema cannot express (an E.164 address, a trigger from the catalog, an
 * id that exists) get hints, so a good share of bodies get past validation into the service.
 */

export interface FuzzContext {
  world: World;
  /** Events of GET /v1/rules/trigger-types. */
  events: string[];
}

/**
 * The JSON type a field wants. @nestjs/swagger reflects `string | null` without an explicit
 * type as "object" (idempotency_key, webhook_secret, phone say so in /openapi.json today); a
 * length limit betrays that it is a string, so the fuzzer treats it as one.
 */
export function jsonTypeOf(schema: Schema): string {
  if (schema.enum) return 'enum';
  if (schema.type === 'object' && (schema.minLength ?? schema.maxLength) !== undefined)
    return 'string';
  return schema.type ?? 'any';
}

/** Does `v` have the JSON type the schema asks for (ranges and formats aside)? */
export function fitsType(schema: Schema, v: unknown): boolean {
  if (v === null) return schema.nullable === true;
  switch (jsonTypeOf(schema)) {
    case 'string':
    case 'enum':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && !Array.isArray(v);
    default:
      return true;
  }
}

const smallJson = fc.jsonValue({ maxDepth: 2 });
export const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), smallJson, { maxKeys: 4 });

const PROVIDERS = ['telegram', 'meta_cloud', 'twilio', 'retell', 'gmail', 'resend', 'smtp'];
const digits = (n: number) =>
  fc.integer({ min: 0, max: 10 ** n - 1 }).map((x) => String(x).padStart(n, '0'));

/** Conditions on skill.invoked fields that suit their types (the trigger hint prefers it). */
const condition = fc.oneof(
  fc
    .record({ field: fc.constant('amount'), operator: fc.constantFrom('gt', 'lte', 'eq') })
    .chain((c) => fc.integer({ min: 0, max: 10_000 }).map((value) => ({ ...c, value }))),
  fc.constant({ field: 'currency', operator: 'eq', value: 'GBP' }),
  fc.constant({ field: 'skill_slug', operator: 'starts_with', value: 'pay' }),
  fc.constant({ field: 'property_ref', operator: 'exists' }),
);

const action = fc.oneof(
  fc.constant({ type: 'block', reason: 'fuzz' }),
  fc.constant({ type: 'notify', to: 'owner', message: 'hello' }),
  fc.constant({ type: 'create_workflow', workflow_type: 'maintenance', stage: 'triage' }),
  fc.constant({
    type: 'require_approval',
    skill_slug: 'payments',
    action: 'pay_contractor',
    approver_role: 'owner',
    expires_in_hours: 24,
  }),
);

const skillPayload = fc.record(
  {
    skill_slug: fc.constant('payments'),
    action: fc.constant('pay_contractor'),
    amount: fc.integer({ min: 0, max: 100_000 }),
    currency: fc.constantFrom('GBP', 'EUR', 'USD'),
    property_ref: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: ['skill_slug', 'action'] },
);

function hint(name: string, schema: Schema, ctx: FuzzContext): fc.Arbitrary<unknown> | null {
  if (name === 'status' && schema.enum?.includes('completed')) {
    // A workflow's terminal statuses end its life for every later case: draw them rarely.
    return fc.constantFrom('active', 'paused', 'awaiting_approval');
  }
  if (schema.enum) return null;
  switch (name) {
    case 'channel_address':
    case 'new_address':
      return fc.oneof(
        digits(4).map((d) => `+44770090${d}`),
        digits(4).map((d) => `Worker.${d}@Example.COM`),
        digits(6).map((d) => `@fuzz_${d}`),
        fc.constantFrom('+44 7700 900123', '0044 (7700) 900-124', '123456789'),
      );
    case 'provider':
      return fc.constantFrom(...PROVIDERS);
    case 'external_identifier':
      return digits(8).map((d) => `@bot_${d}`);
    case 'trigger_event':
    case 'event':
      return fc.oneof(
        { weight: 3, arbitrary: fc.constant('skill.invoked') },
        { weight: 1, arbitrary: fc.constantFrom(...ctx.events) },
      );
    case 'conditions':
      return fc.array(condition, { maxLength: 3 });
    case 'actions':
      return fc.array(action, { minLength: 1, maxLength: 3 });
    case 'payload':
      return skillPayload;
    case 'serialized_intent':
      return fc.record({
        contractor_id: fc.uuid(),
        amount: fc.nat(),
        currency: fc.constant('GBP'),
      });
    case 'skill_slug':
      return fc.constant('payments');
    case 'action':
      return fc.constantFrom('pay_contractor', 'refund_deposit', 'escalated');
    case 'approval_ref':
      return fc.constantFrom(ctx.world.approvalRef, 'APR-ZZZZZZ');
    case 'email':
      return digits(6).map((d) => `person${d}@example.com`);
    case 'phone':
      return fc.constant('+447700900123');
    default:
      return null;
  }
}

function byType(schema: Schema): fc.Arbitrary<unknown> {
  switch (jsonTypeOf(schema)) {
    case 'enum':
      return fc.constantFrom(...(schema.enum ?? []));
    case 'string':
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'email') return fc.emailAddress().filter((e) => e.length <= 320);
      if (schema.format === 'date-time')
        return fc
          .date({ min: new Date('2001-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
          .map((d) => d.toISOString());
      return fc.string({
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 30, 30),
      });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(smallJson, { minLength: schema.minItems ?? 0, maxLength: 3 });
    case 'object':
      return jsonObject;
    default:
      return smallJson;
  }
}

/** A value that should pass the field's own checks most of the time. */
export function validValue(name: string, schema: Schema, ctx: FuzzContext): fc.Arbitrary<unknown> {
  const ids = ctx.world.ids[name];
  const hinted = hint(name, schema, ctx);
  let base: fc.Arbitrary<unknown>;
  if (ids && jsonTypeOf(schema) === 'string') {
    base = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...ids) },
      { weight: 1, arbitrary: fc.constantFrom(...ids).map((id) => id.toUpperCase()) },
      { weight: 1, arbitrary: fc.uuid() }, // well-formed, but no such row: 404/422 paths
    );
  } else if (hinted) {
    base = fc.oneof({ weight: 4, arbitrary: hinted }, { weight: 1, arbitrary: byType(schema) });
  } else {
    base = byType(schema);
  }
  return schema.nullable ? fc.option(base, { freq: 8, nil: null }) : base;
}

/** A value of any JSON type but the one the schema wants. */
export function wrongType(schema: Schema): fc.Arbitrary<unknown> {
  return fc
    .oneof(
      fc.constant(null),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.string({ maxLength: 10 }),
      fc.array(fc.integer(), { maxLength: 3 }),
      jsonObject,
    )
    .filter((v) => !fitsType(schema, v));
}
