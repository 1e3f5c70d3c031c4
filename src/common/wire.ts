import 'reflect-metadata';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { IsOptional, ValidateIf } from 'class-validator';
import { FieldError, FieldProblem } from './errors';
import { RawJson, RawSlots } from './raw-json';

/**
 * The one place where TypeScript names meet wire names. A property declared with @WireField is
 * camelCase in code and snake_case in JSON bodies, query strings and the OpenAPI schema.
 * Only declared fields cross the boundary: unknown request fields are dropped, undeclared
 * response fields (key hashes, ciphertexts) are never serialised.
 */
export function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export interface WireFieldOptions extends Omit<ApiPropertyOptions, 'name' | 'type'> {
  /** May be absent from a request. `null` is refused unless `nullable` is set too. */
  optional?: boolean;
  /** A nested wire class, mapped field by field (for arrays too). */
  nested?: () => new () => object;
  /** Free-form JSON: copied as it is in both directions, keys untouched. */
  json?: boolean;
  /** How a query-string value is read before validation. */
  query?: 'int' | 'bool';
  /** Applied to the raw value before validation (trimming, case folding). */
  normalize?: (value: unknown) => unknown;
  type?: ApiPropertyOptions['type'];
}

export interface WireProp {
  key: string;
  wire: string;
  optional: boolean;
  nested?: () => new () => object;
  json: boolean;
  query?: 'int' | 'bool';
  normalize?: (value: unknown) => unknown;
}

const WIRE_PROPS = Symbol('wire:props');

export function WireField(options: WireFieldOptions = {}): PropertyDecorator {
  const { optional = false, nested, json = false, query, normalize, ...api } = options;
  const record: PropertyDecorator = (target, key) => {
    const own: WireProp[] = Reflect.getOwnMetadata(WIRE_PROPS, target) ?? [];
    const name = String(key);
    const prop = { key: name, wire: toSnake(name), optional, nested, json, query, normalize };
    Reflect.defineMetadata(WIRE_PROPS, [...own.filter((p) => p.key !== name), prop], target);
  };
  const schema: ApiPropertyOptions = {
    ...api,
    required: !optional,
    // Swagger resolves a lazy type only from a function named `type` (an arrow assigned to
    // `type` is); `nested` itself is named `nested`, and came out as a `$ref` to no schema.
    ...(nested && !api.type ? { type: () => nested() } : {}),
    // `string | null` reflects as Object; a declared format or length says what it really is.
    ...((api.format || api.minLength !== undefined || api.maxLength !== undefined) &&
    !api.type &&
    !nested
      ? { type: 'string' }
      : {}),
    ...(json && !api.type ? { type: 'object', additionalProperties: true } : {}),
  } as ApiPropertyOptions;
  const swagger: PropertyDecorator = (target, key) =>
    ApiProperty({ ...schema, name: toSnake(String(key)) })(target, key);
  // IsOptional skips validation for undefined *and* null; a non-nullable optional field skips it
  // only when absent, so an explicit null still meets its validators (and a 422).
  const presence = !optional
    ? []
    : api.nullable
      ? [IsOptional()]
      : [ValidateIf((_, value) => value !== undefined)];
  return applyDecorators(record, swagger, ...presence);
}

const propsCache = new Map<object, WireProp[]>();

/** Declared wire fields of a class in declaration order, parent class first (cached: per request). */
export function wireProps(cls: abstract new (...args: never[]) => unknown): WireProp[] {
  const cached = propsCache.get(cls);
  if (cached) return cached;
  const chain: object[] = [];
  for (
    let proto = cls.prototype;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    chain.unshift(proto);
  }
  const byKey = new Map<string, WireProp>();
  for (const proto of chain) {
    for (const p of (Reflect.getOwnMetadata(WIRE_PROPS, proto) as WireProp[] | undefined) ?? []) {
      byKey.set(p.key, p); // a subclass may redeclare a field; it keeps its first position
    }
  }
  const props = [...byKey.values()];
  propsCache.set(cls, props);
  return props;
}

export function isWireClass(cls: unknown): cls is new () => object {
  return typeof cls === 'function' && wireProps(cls as new () => object).length > 0;
}

/**
 * Response side: class instances become snake_case plain objects; dates become ISO strings.
 * Raw documents go into `slots` when given (the response is then spliced as text), else they
 * are parsed back into values.
 */
export function toWire(value: unknown, slots?: RawSlots): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof RawJson) return slots ? slots.hold(value) : value.parse();
  if (Array.isArray(value)) return value.map((item) => toWire(item, slots));
  if (typeof value !== 'object') return value;
  const props = wireProps(value.constructor as new () => object);
  if (props.length === 0) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const p of props) {
    const v = source[p.key];
    out[p.wire] = v === undefined ? null : p.json && !(v instanceof RawJson) ? v : toWire(v, slots);
  }
  return out;
}

/**
 * Request side: builds an instance of `cls` from a snake_case plain object. Values of nested
 * wire classes are built recursively; everything else (free-form JSON included) is copied.
 */
export function fromWire<T extends object>(
  cls: new () => T,
  plain: Record<string, unknown>,
  source: 'body' | 'query' | 'path',
): T {
  const instance = new cls() as Record<string, unknown>;
  for (const p of wireProps(cls)) {
    if (!Object.prototype.hasOwnProperty.call(plain, p.wire)) continue;
    let v = plain[p.wire];
    if (source === 'query' && typeof v === 'string') v = readQuery(v, p.query);
    if (p.normalize) v = p.normalize(v);
    if (p.nested && !p.json) v = buildNested(p.nested(), v, source);
    instance[p.key] = v;
  }
  return instance as T;
}

function buildNested(
  cls: new () => object,
  v: unknown,
  source: 'body' | 'query' | 'path',
): unknown {
  const one = (item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? fromWire(cls, item as Record<string, unknown>, source)
      : item;
  return Array.isArray(v) ? v.map(one) : one(v);
}

/** Query strings are text; numbers and booleans are read strictly and otherwise left for 422. */
function readQuery(v: string, kind: WireProp['query']): unknown {
  if (kind === 'int')
    return /^-?\d{1,16}$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (kind === 'bool') {
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
  }
  return v;
}

/** For `normalize`: trims and lower-cases strings, leaves anything else for validation to refuse. */
export const trimLower = (value: unknown): unknown =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

/** A field problem as the client sees it: the field's wire name, then the path into its value. */
export function wireLoc(problem: FieldProblem): FieldError {
  return {
    loc: [problem.source ?? 'body', toSnake(problem.field), ...(problem.path ?? [])],
    msg: problem.msg,
    type: problem.type,
  };
}
