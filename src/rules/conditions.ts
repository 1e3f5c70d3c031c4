import { FieldError } from '../common/errors';
import { isRfc3339 } from '../common/time';
import { RULE_LIMITS } from './limits';
import { FieldType, PayloadField, TriggerType } from './trigger-catalog';

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

const MAX_CONDITIONS = RULE_LIMITS.conditionsPerRule;
const MAX_LIST = RULE_LIMITS.valuesPerList;
const MAX_CHARS = RULE_LIMITS.charactersPerValue;

/** Is `v` a value of this field's type (as written in a rule)? */
export function fitsType(field: PayloadField, v: unknown): boolean {
  switch (field.type) {
    case 'string':
      return typeof v === 'string' && v.length <= MAX_CHARS;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return typeof v === 'string' && (field.values ?? []).includes(v);
    case 'datetime':
      return isRfc3339(v); // the one spelling of a time the API accepts anywhere
  }
}

/** Said apart from a wrong type: the client learns what to shorten, not what to retype. */
const tooLong = (field: PayloadField) => (v: unknown) =>
  field.type === 'string' && typeof v === 'string' && v.length > MAX_CHARS;

const describe = (field: PayloadField) =>
  field.type === 'enum'
    ? `one of ${(field.values ?? []).join(', ')}`
    : `a ${field.type}${field.type === 'datetime' ? ' (RFC 3339)' : ''}`;

/**
 * Checks raw conditions against a trigger and returns them cleaned (unknown keys dropped), or
 * the errors, each at ["body", "conditions", i, …].
 */
export function validateConditions(
  trigger: TriggerType,
  raw: unknown,
): { conditions: Condition[]; errors: FieldError[] } {
  const at = (...path: (string | number)[]) => ['body', 'conditions', ...path];
  if (!Array.isArray(raw))
    return {
      conditions: [],
      errors: [{ loc: at(), msg: 'Input should be a valid list', type: 'list_type' }],
    };
  if (raw.length > MAX_CONDITIONS)
    return {
      conditions: [],
      errors: [{ loc: at(), msg: `At most ${MAX_CONDITIONS} conditions`, type: 'too_long' }],
    };
  const errors: FieldError[] = [];
  const conditions: Condition[] = [];
  raw.forEach((item: unknown, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.push({
        loc: at(i),
        msg: 'Input should be an object {field, operator, value}',
        type: 'dict_type',
      });
      return;
    }
    const { field: name, operator, value } = item as Record<string, unknown>;
    const field = trigger.payloadFields.find((f) => f.name === name);
    if (!field) {
      const known = trigger.payloadFields.map((f) => f.name).join(', ');
      errors.push({
        loc: at(i, 'field'),
        msg: `field must be one of ${known} for ${trigger.event}`,
        type: 'enum',
      });
      return;
    }
    const allowed = OPERATORS_BY_TYPE[field.type];
    if (!allowed.includes(operator as Operator)) {
      errors.push({
        loc: at(i, 'operator'),
        msg: `operator for a ${field.type} field must be one of ${allowed.join(', ')}`,
        type: 'enum',
      });
      return;
    }
    const op = operator as Operator;
    if (op === 'exists' || op === 'not_exists') {
      if (value !== undefined && value !== null) {
        errors.push({ loc: at(i, 'value'), msg: `${op} takes no value`, type: 'value_error' });
      } else conditions.push({ field: field.name, operator: op });
      return;
    }
    if (op === 'in' || op === 'not_in') {
      if (Array.isArray(value) && value.length > MAX_LIST) {
        errors.push({
          loc: at(i, 'value'),
          msg: `${op} takes at most ${MAX_LIST} values`,
          type: 'too_long',
        });
        return;
      }
      const long = Array.isArray(value) ? value.findIndex(tooLong(field)) : -1;
      if (long >= 0) {
        errors.push({
          loc: at(i, 'value'),
          msg: `each value may have at most ${MAX_CHARS} characters; value ${long} has ${(value as string[])[long].length}`,
          type: 'string_too_long',
        });
        return;
      }
      const ok =
        Array.isArray(value) && value.length >= 1 && value.every((v) => fitsType(field, v));
      if (!ok)
        errors.push({
          loc: at(i, 'value'),
          msg: `${op} takes a list of 1 to ${MAX_LIST} values, each ${describe(field)}`,
          type: 'value_error',
        });
      else conditions.push({ field: field.name, operator: op, value });
      return;
    }
    if (tooLong(field)(value)) {
      errors.push({
        loc: at(i, 'value'),
        msg: `value may have at most ${MAX_CHARS} characters; it has ${(value as string).length}`,
        type: 'string_too_long',
      });
      return;
    }
    if (!fitsType(field, value)) {
      errors.push({
        loc: at(i, 'value'),
        msg: `value must be ${describe(field)}`,
        type: 'value_error',
      });
      return;
    }
    conditions.push({ field: field.name, operator: op, value });
  });
  return { conditions, errors };
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

/**
 * How payload values are read. Strings compare case-insensitively (agents relay text people
 * typed); enums compare exactly; numeric strings count as numbers; datetimes compare as
 * instants. A missing or null field matches only `not_exists`: for every other operator,
 * negative ones included, an unknown value is not a match.
 */
function normalise(type: FieldType, v: unknown): Normalised | undefined {
  if (v === undefined || v === null) return undefined;
  switch (type) {
    case 'string':
      return typeof v === 'string'
        ? v.toLowerCase()
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

export const allPassed = (results: ConditionResult[]) => results.every((r) => r.passed);

/**
 * Checks an event's payload against its trigger: known fields must be of their type (or null);
 * unknown fields are allowed and ignored by conditions.
 */
export function validatePayload(
  trigger: TriggerType,
  payload: Record<string, unknown>,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of trigger.payloadFields) {
    const value = payload[field.name];
    if (value === undefined || value === null || fitsType(field, value)) continue;
    errors.push({
      loc: ['body', 'payload', field.name],
      msg: `${field.name} must be ${describe(field)}`,
      type: 'value_error',
    });
  }
  return errors;
}
