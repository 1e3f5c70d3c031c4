import { FieldProblem } from '../common/errors';
import { isRfc3339 } from '../common/time';
import { Condition, OPERATORS_BY_TYPE, Operator } from './conditions';
import { RULE_LIMITS } from './limits';
import { PayloadField, TriggerType } from './trigger-catalog';

const MAX_CONDITIONS = RULE_LIMITS.conditionsPerRule;
const MAX_LIST = RULE_LIMITS.valuesPerList;
const MAX_CHARS = RULE_LIMITS.charactersPerValue;

/** Is `v` a value of this field's type (as written in a rule: a string of at most MAX_CHARS)? */
export function fitsType(field: PayloadField, v: unknown): boolean {
  return isOfType(field, v) && !tooLong(field)(v);
}

/**
 * Is `v` of this field's type, whatever its length? An event's own values are bounded only by
 * the payload's size cap: a message received may well be longer than a rule's value may be.
 */
function isOfType(field: PayloadField, v: unknown): boolean {
  switch (field.type) {
    case 'string':
      return typeof v === 'string';
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

/** A problem with the field `conditions`, at `path` inside its value. */
const problem = (path: (string | number)[], msg: string, type: string): FieldProblem => ({
  field: 'conditions',
  path,
  msg,
  type,
});

/**
 * Checks raw conditions against a trigger and returns them cleaned (unknown keys dropped), or
 * the problems, each on the field `conditions` at [i, key].
 */
export function validateConditions(
  trigger: TriggerType,
  raw: unknown,
): { conditions: Condition[]; errors: FieldProblem[] } {
  if (!Array.isArray(raw))
    return { conditions: [], errors: [problem([], 'Input should be a valid list', 'list_type')] };
  if (raw.length > MAX_CONDITIONS)
    return {
      conditions: [],
      errors: [problem([], `At most ${MAX_CONDITIONS} conditions`, 'too_long')],
    };
  const errors: FieldProblem[] = [];
  const conditions: Condition[] = [];
  raw.forEach((item: unknown, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.push(problem([i], 'Input should be an object {field, operator, value}', 'dict_type'));
      return;
    }
    const { field: name, operator, value } = item as Record<string, unknown>;
    const field = trigger.payloadFields.find((f) => f.name === name);
    if (!field) {
      const known = trigger.payloadFields.map((f) => f.name).join(', ');
      errors.push(
        problem([i, 'field'], `field must be one of ${known} for ${trigger.event}`, 'enum'),
      );
      return;
    }
    const allowed = OPERATORS_BY_TYPE[field.type];
    if (!allowed.includes(operator as Operator)) {
      errors.push(
        problem(
          [i, 'operator'],
          `operator for a ${field.type} field must be one of ${allowed.join(', ')}`,
          'enum',
        ),
      );
      return;
    }
    const op = operator as Operator;
    if (op === 'exists' || op === 'not_exists') {
      if (value !== undefined && value !== null) {
        errors.push(problem([i, 'value'], `${op} takes no value`, 'value_error'));
      } else conditions.push({ field: field.name, operator: op });
      return;
    }
    if (op === 'in' || op === 'not_in') {
      if (Array.isArray(value) && value.length > MAX_LIST) {
        errors.push(problem([i, 'value'], `${op} takes at most ${MAX_LIST} values`, 'too_long'));
        return;
      }
      const long = Array.isArray(value) ? value.findIndex(tooLong(field)) : -1;
      if (long >= 0) {
        errors.push(
          problem(
            [i, 'value'],
            `each value may have at most ${MAX_CHARS} characters; value ${long} has ${(value as string[])[long].length}`,
            'string_too_long',
          ),
        );
        return;
      }
      const ok =
        Array.isArray(value) && value.length >= 1 && value.every((v) => fitsType(field, v));
      if (!ok)
        errors.push(
          problem(
            [i, 'value'],
            `${op} takes a list of 1 to ${MAX_LIST} values, each ${describe(field)}`,
            'value_error',
          ),
        );
      else conditions.push({ field: field.name, operator: op, value });
      return;
    }
    if (tooLong(field)(value)) {
      errors.push(
        problem(
          [i, 'value'],
          `value may have at most ${MAX_CHARS} characters; it has ${(value as string).length}`,
          'string_too_long',
        ),
      );
      return;
    }
    if (!fitsType(field, value)) {
      errors.push(problem([i, 'value'], `value must be ${describe(field)}`, 'value_error'));
      return;
    }
    conditions.push({ field: field.name, operator: op, value });
  });
  return { conditions, errors };
}

/**
 * Checks an event's payload against its trigger: known fields must be of their type (or null);
 * unknown fields are allowed and ignored by conditions.
 */
export function validatePayload(
  trigger: TriggerType,
  payload: Record<string, unknown>,
): FieldProblem[] {
  const errors: FieldProblem[] = [];
  for (const field of trigger.payloadFields) {
    const value = payload[field.name];
    if (value === undefined || value === null || isOfType(field, value)) continue;
    errors.push({
      field: 'payload',
      path: [field.name],
      msg: `${field.name} must be ${describe(field)}`,
      type: 'value_error',
    });
  }
  return errors;
}
