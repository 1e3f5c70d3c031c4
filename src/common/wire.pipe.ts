import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ValidationError, validateSync } from 'class-validator';
import { FieldError, RequestValidationError } from './errors';
import { UNSAFE_NUMBER_MESSAGE, scanBody } from './body-scan';
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
 * Classes an empty input was found valid for. Validation of no input has one outcome per class,
 * and a list without a query string, the dashboard's most common request, learnt it again each
 * time: 3.5 µs in process for the workflow list's query (class-validator walks every field's
 * constraints), 0.2 µs remembered. So no validator of a wire class may judge an absent field by
 * anything but its absence (the clock, configuration): none does.
 */
const EMPTY_VALID = new WeakSet<object>();

function isEmpty(plain: object): boolean {
  for (const key in plain) if (Object.prototype.hasOwnProperty.call(plain, key)) return false;
  return true;
}

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
    const scan = scanBody(plain, source);
    if (scan.text) throw RequestValidationError.at(scan.text.loc, scan.text.msg, scan.text.type);
    const instance = fromWire(meta.metatype, plain as Record<string, unknown>, source);
    const empty = isEmpty(plain);
    if (empty && EMPTY_VALID.has(meta.metatype)) return instance;
    const errors = validateSync(instance, { forbidUnknownValues: false });
    if (errors.length > 0) throw new RequestValidationError(flatten(errors, [source]));
    if (empty) EMPTY_VALID.add(meta.metatype);
    // After validation, so typed numbers meet their own ranges first; what is left is free-form.
    if (scan.unsafeNumber) {
      throw RequestValidationError.at(scan.unsafeNumber, UNSAFE_NUMBER_MESSAGE, 'number_unsafe');
    }
    return instance;
  }
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
