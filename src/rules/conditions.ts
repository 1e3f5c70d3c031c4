import { FieldType, TriggerType } from './trigger-catalog';

export const OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'exists',
  'not_exists',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** Which operators suit which field type. */
export const OPERATORS_BY_TYPE: Record<FieldType, readonly Operator[]> = {
  string: [
    'eq',
    'neq',
    'in',
    'not_in',
    'contains',
    'not_contains',
    'starts_with',
    'exists',
    'not_exists',
  ],
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'exists', 'not_exists'],
  boolean: ['eq', 'neq', 'exists', 'not_exists'],
  enum: ['eq', 'neq', 'in', 'not_in', 'exists', 'not_exists'],
  datetime: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists'],
};

export interface Condition {
  field: string;
  operator: Operator;
  value?: unknown;
}

export interface ConditionResult {
  field: string;
  operator: Operator;
  expected: unknown;
  actual: unknown;
  passed: boolean;
}

type Normalised = string | number | boolean;
type Test = (actual: Normalised) => boolean;

/** Invisible format characters (zero-width, bidi controls, soft hyphen, variation selectors). */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;
let lastString: string | undefined;
let lastRead = '';

/**
 * A string as a person reads it, for comparing: NFKC (full-width letters, `ſ`), invisible
 * characters dropped, trimmed, lower-cased. A guard rule on `skill_slug eq "payments"` must not
 * be passed by `payments\u200b`, ` payments` or `ｐａｙｍｅｎｔｓ`. Dropped rather than refused:
 * payloads carry what people wrote, and an emoji's zero-width joiner is no attack. An event
 * reads one value against every rule in turn, so the last one read is remembered.
 */
function readString(s: string): string {
  if (s === lastString) return lastRead;
  lastRead = PLAIN_ASCII.test(s)
    ? s.trim().toLowerCase()
    : s.normalize('NFKC').replace(INVISIBLE, '').trim().toLowerCase();
  lastString = s;
  return lastRead;
}

/**
 * How payload values are read. Strings compare as people read them, case-insensitively (agents
 * relay text people typed; see readString); enums compare exactly; numeric strings count as
 * numbers; datetimes compare as instants. A missing or null field matches only `not_exists`:
 * for every other operator, negative ones included, an unknown value is not a match.
 */
function normalise(type: FieldType, v: unknown): Normalised | undefined {
  if (v === undefined || v === null) return undefined;
  switch (type) {
    case 'string':
      return typeof v === 'string'
        ? readString(v)
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v).toLowerCase()
          : undefined;
    case 'number':
      if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
      return typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;
    case 'enum':
      return typeof v === 'string' ? v : undefined;
    case 'datetime': {
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      return Number.isNaN(t) ? undefined : t;
    }
  }
}

function compileTest(type: FieldType, c: Condition): Test {
  const one = () => normalise(type, c.value) as Normalised;
  switch (c.operator) {
    case 'eq': {
      const e = one();
      return (a) => a === e;
    }
    case 'neq': {
      const e = one();
      return (a) => a !== e;
    }
    case 'gt': {
      const e = one();
      return (a) => a > e;
    }
    case 'gte': {
      const e = one();
      return (a) => a >= e;
    }
    case 'lt': {
      const e = one();
      return (a) => a < e;
    }
    case 'lte': {
      const e = one();
      return (a) => a <= e;
    }
    case 'in': {
      const set = new Set((c.value as unknown[]).map((v) => normalise(type, v)));
      return (a) => set.has(a);
    }
    case 'not_in': {
      const set = new Set((c.value as unknown[]).map((v) => normalise(type, v)));
      return (a) => !set.has(a);
    }
    case 'contains': {
      const e = String(one());
      return (a) => String(a).includes(e);
    }
    case 'not_contains': {
      const e = String(one());
      return (a) => !String(a).includes(e);
    }
    case 'starts_with': {
      const e = String(one());
      return (a) => String(a).startsWith(e);
    }
    case 'exists':
    case 'not_exists':
      return () => true; // decided on presence alone, in compilePredicate
  }
}

/** One condition as a predicate over the raw payload value (no eval, no generated code). */
function compilePredicate(trigger: TriggerType, c: Condition): (raw: unknown) => boolean {
  const type = trigger.payloadFields.find((f) => f.name === c.field)?.type ?? 'string';
  if (c.operator === 'exists') return (raw) => normalise(type, raw) !== undefined;
  if (c.operator === 'not_exists') return (raw) => normalise(type, raw) === undefined;
  const test = compileTest(type, c);
  return (raw) => {
    const actual = normalise(type, raw);
    return actual !== undefined && test(actual);
  };
}

const read = (payload: Record<string, unknown>, field: string) =>
  Object.prototype.hasOwnProperty.call(payload, field) ? payload[field] : undefined;

export type CompiledConditions = (payload: Record<string, unknown>) => ConditionResult[];

/** Compiles once; the result reports every condition (the dry run). */
export function compileConditions(
  trigger: TriggerType,
  conditions: Condition[],
): CompiledConditions {
  const compiled = conditions.map((c) => ({ c, passes: compilePredicate(trigger, c) }));
  return (payload) =>
    compiled.map(({ c, passes }) => {
      const raw = read(payload, c.field);
      return {
        field: c.field,
        operator: c.operator,
        expected: c.value ?? null,
        actual: raw ?? null,
        passed: passes(raw),
      };
    });
}

/** Compiles once; the result stops at the first failing condition (firing, per event). */
export function compileMatcher(
  trigger: TriggerType,
  conditions: Condition[],
): (payload: Record<string, unknown>) => boolean {
  const compiled = conditions.map((c) => ({
    field: c.field,
    passes: compilePredicate(trigger, c),
  }));
  return (payload) => compiled.every(({ field, passes }) => passes(read(payload, field)));
}

/**
 * Compiles once; the result is the first condition the payload fails, or null when it meets
 * them all: why a rule was skipped. The same predicates as compileMatcher, which firing uses,
 * so it stops where the matcher did; kept apart so the matcher stays a plain boolean.
 */
export function compileFirstFailure(
  trigger: TriggerType,
  conditions: Condition[],
): (payload: Record<string, unknown>) => ConditionResult | null {
  const compiled = conditions.map((c) => ({ c, passes: compilePredicate(trigger, c) }));
  return (payload) => {
    for (const { c, passes } of compiled) {
      const raw = read(payload, c.field);
      if (!passes(raw)) {
        const expected = c.value ?? null;
        return {
          field: c.field,
          operator: c.operator,
          expected,
          actual: raw ?? null,
          passed: false,
        };
      }
    }
    return null;
  };
}

export const allPassed = (results: ConditionResult[]) => results.every((r) => r.passed);
