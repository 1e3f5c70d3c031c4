import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ValidationError, validateSync } from 'class-validator';
import { FieldError, RequestValidationError } from './errors';
import { UNSAFE_NUMBER_MESSAGE, findUnsafeNumber } from './json-limits';
import { fromWire, isWireClass, wireProps } from './wire';

/** class-validator constraint → the error `type` the existing (FastAPI-era) clients know. */
const TYPES: Record<string, string> = {
  isString: 'string_type',
  isUuid: 'uuid_parsing',
  isUUID: 'uuid_parsing',
  maxLength: 'string_too_long',
  minLength: 'string_too_short',
  isIn: 'enum',
  isEnum: 'enum',
  isInt: 'int_type',
  min: 'greater_than_equal',
  max: 'less_than_equal',
  isBoolean: 'bool_type',
  isObject: 'dict_type',
  maxJsonBytes: 'json_too_large',
  isArray: 'list_type',
  arrayMinSize: 'too_short',
  arrayMaxSize: 'too_long',
  isEmail: 'value_error',
  isIso8601: 'datetime_parsing',
  isISO8601: 'datetime_parsing',
  nestedValidation: 'model_type',
};

/**
 * Global pipe for bodies and query strings declared as wire classes: maps snake_case to
 * camelCase, drops unknown fields, validates, and raises one 422 entry per failing field.
 */
@Injectable()
export class WirePipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if ((meta.type !== 'body' && meta.type !== 'query') || !isWireClass(meta.metatype)) {
      return value;
    }
    const source = meta.type;
    const plain = value === undefined || value === null ? {} : value;
    if (typeof plain !== 'object' || Array.isArray(plain)) {
      throw RequestValidationError.at(
        [source],
        'Input should be a valid dictionary or object',
        'model_attributes_type',
      );
    }
    const bad = findBadText(plain, [source]);
    if (bad) throw RequestValidationError.at(bad.loc, bad.msg, bad.type);
    const instance = fromWire(meta.metatype, plain as Record<string, unknown>, source);
    const errors = validateSync(instance, { forbidUnknownValues: false });
    if (errors.length > 0) throw new RequestValidationError(flatten(errors, [source]));
    // After validation, so typed numbers meet their own ranges first; what is left is free-form.
    const unsafe = findUnsafeNumber(plain, [source]);
    if (unsafe) throw RequestValidationError.at(unsafe, UNSAFE_NUMBER_MESSAGE, 'number_unsafe');
    return instance;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string PostgreSQL cannot store, and why. */
function textProblem(text: string): { msg: string; type: string } | null {
  if (text.includes('\0')) return { msg: 'NUL characters are not allowed', type: 'string_nul' };
  if (LONE_SURROGATE.test(text)) {
    return { msg: 'Unpaired surrogates are not valid Unicode', type: 'string_unicode' };
  }
  return null;
}

/**
 * PostgreSQL stores neither NUL nor an unpaired UTF-16 surrogate in text or jsonb, and
 * validators choke on the latter, so either would fail deep in a query or a check: refuse it
 * here, in keys and values at any depth (the JSON parser bounds the depth), pointing at it.
 */
function findBadText(
  value: unknown,
  loc: (string | number)[],
): { loc: (string | number)[]; msg: string; type: string } | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { loc, ...problem } : null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const at = [...loc, Array.isArray(value) ? Number(key) : key];
    const problem = textProblem(key);
    if (problem) return { loc: at, ...problem };
    const found = findBadText(item, at);
    if (found) return found;
  }
  return null;
}

/** A wrong type says more than a range check on a wrong type: report it first. */
const TYPE_CHECKS = [
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isObject',
  'isArray',
  'isUuid',
  'isIn',
  'isEnum',
];

function firstConstraint(constraints: Record<string, string>): [string, string] {
  const entries = Object.entries(constraints);
  return (
    entries.find(([name]) => TYPE_CHECKS.includes(name)) ?? entries[0] ?? ['', 'Invalid value']
  );
}

/** Declaration order, parent class first, so entries come out in the order fields are read. */
function byDeclaration(errors: ValidationError[]): ValidationError[] {
  const target = errors[0]?.target?.constructor as (new () => object) | undefined;
  if (!target) return errors;
  const order = wireProps(target).map((p) => p.key);
  return [...errors].sort((x, y) => order.indexOf(x.property) - order.indexOf(y.property));
}

function flatten(errors: ValidationError[], prefix: (string | number)[]): FieldError[] {
  const out: FieldError[] = [];
  for (const error of byDeclaration(errors)) {
    const prop = wireProps((error.target?.constructor ?? Object) as new () => object).find(
      (p) => p.key === error.property,
    );
    const segment = prop
      ? prop.wire
      : /^\d+$/.test(error.property)
        ? Number(error.property)
        : error.property;
    const loc = [...prefix, segment];
    if (error.children && error.children.length > 0) {
      out.push(...flatten(error.children, loc));
      continue;
    }
    if (error.value === undefined && prop && !prop.optional) {
      out.push({ loc, msg: 'Field required', type: 'missing' });
      continue;
    }
    const [constraint, message] = firstConstraint(error.constraints ?? {});
    out.push({
      loc,
      msg: prop ? message.replace(error.property, prop.wire) : message,
      type: TYPES[constraint] ?? 'value_error',
    });
  }
  return out;
}
