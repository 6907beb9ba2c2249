/**
 * Custom resources against their CRD's `openAPIV3Schema`, in the real server's
 * order: defaults are applied, unknown fields are pruned (and reported, for
 * `fieldValidation=Strict|Warn`), then the value is validated, with errors worded
 * as kube-apiserver words them (`spec.timeout: Invalid value: "integer": spec.timeout
 * in body must be of type string: "integer"`); nulls in fields that are not
 * `nullable` are dropped, as v1 CRDs do. CEL rules (`x-kubernetes-validations`)
 * and `x-kubernetes-list-type` uniqueness are not checked.
 */
import { goValue, invalidValue, notSupported, required, type FieldError, type JsonObject } from './errors.js';

export interface SchemaResult {
  errors: FieldError[];
  /** Paths of fields the schema does not declare (they were pruned). */
  unknownFields: string[];
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const formats: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  hostname: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  byte: /^[A-Za-z0-9+/]*={0,2}$/,
};

class Walker {
  errors: FieldError[] = [];
  unknownFields: string[] = [];

  /** `prune: false` for the value-only checks of allOf/anyOf/oneOf/not branches. */
  constructor(private readonly prune = true) {}

  /** Applies defaults and prunes `value` in place (returns the value to keep); records errors. */
  walk(schema: JsonObject | undefined, value: unknown, path: string, root = false): unknown {
    if (!schema) return value;
    if (value === null) {
      if (!schema.nullable && !schema['x-kubernetes-preserve-unknown-fields'] && schema.type) {
        this.errors.push(invalidValue(path, 'null', `${path} in body must be of type ${schema.type}: "null"`));
      }
      return value;
    }
    const actual = typeName(value);
    if (schema['x-kubernetes-int-or-string']) {
      if (actual !== 'integer' && actual !== 'string') {
        this.errors.push(invalidValue(path, actual, `${path} in body must be of type integer,string: ${goValue(actual)}`));
        return value;
      }
    } else if (schema.type) {
      const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
      if (!ok) {
        this.errors.push(invalidValue(path, actual, `${path} in body must be of type ${schema.type}: ${goValue(actual)}`));
        return value;
      }
    }
    if (actual === 'object') this.walkObject(schema, value as JsonObject, path, root);
    if (actual === 'array') {
      const items = value as unknown[];
      items.forEach((item, i) => (items[i] = this.walk(schema.items, item, `${path}[${i}]`)));
    }
    this.checkValue(schema, value, path);
    return value;
  }

  private walkObject(schema: JsonObject, object: JsonObject, path: string, root: boolean): void {
    const props: JsonObject | undefined = schema.properties;
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    if (this.prune) {
      // Nulls in fields that are not nullable are dropped before defaulting (apiextensions v1).
      for (const key of Object.keys(object)) {
        const sub: JsonObject | undefined = props?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (object[key] === null && sub && !sub.nullable) delete object[key];
      }
    }
    if (props) {
      for (const [key, sub] of Object.entries(props)) {
        if (this.prune && !(key in object) && (sub as JsonObject).default !== undefined) object[key] = structuredClone((sub as JsonObject).default);
      }
    }
    for (const key of Object.keys(object)) {
      if (root && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
      const child = join(path, key);
      if (props && key in props) object[key] = this.walk(props[key], object[key], child);
      else if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
        const sub = schema.additionalProperties === true ? undefined : schema.additionalProperties;
        object[key] = this.walk(sub, object[key], child);
      } else if (!preserve && this.prune) {
        this.unknownFields.push(child);
        delete object[key];
      }
    }
    for (const key of schema.required ?? []) {
      if (!(key in object)) this.errors.push(required(join(path, key)));
    }
  }

  private checkValue(schema: JsonObject, value: unknown, path: string): void {
    const at = path || '<root>';
    if (schema.enum && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) {
      this.errors.push(notSupported(at, value, schema.enum));
    }
    if (typeof value === 'string') {
      if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) {
        this.errors.push(invalidValue(at, value, `${at} in body should match '${schema.pattern}'`));
      }
      if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
        this.errors.push({ type: 'FieldValueTooLong', field: at, detail: `Too long: may not be more than ${schema.maxLength} bytes` });
      }
      if (schema.minLength !== undefined && [...value].length < schema.minLength) {
        this.errors.push(invalidValue(at, value, `${at} in body should be at least ${schema.minLength} chars long`));
      }
      const format = schema.format && formats[schema.format];
      if (format && !format.test(value)) {
        this.errors.push(invalidValue(at, value, `${at} in body must be of type ${schema.format}: ${goValue(value)}`));
      }
    }
    if (typeof value === 'number') {
      if (schema.maximum !== undefined) {
        if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum) {
          this.errors.push(invalidValue(at, value, `${at} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
        }
      }
      if (schema.minimum !== undefined) {
        if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum) {
          this.errors.push(invalidValue(at, value, `${at} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
        }
      }
      if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0) {
        this.errors.push(invalidValue(at, value, `${at} in body should be a multiple of ${schema.multipleOf}`));
      }
    }
    if (Array.isArray(value)) {
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        this.errors.push({ type: 'FieldValueTooMany', field: at, detail: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        this.errors.push(invalidValue(at, value.length, `${at} in body should have at least ${schema.minItems} items`));
      }
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const n = Object.keys(value).length;
      if (schema.maxProperties !== undefined && n > schema.maxProperties) {
        this.errors.push({ type: 'FieldValueTooMany', field: at, detail: `Too many: ${n}: must have at most ${schema.maxProperties} items` });
      }
      if (schema.minProperties !== undefined && n < schema.minProperties) {
        this.errors.push(invalidValue(at, n, `${at} in body should have at least ${schema.minProperties} properties`));
      }
    }
    // Value validations only: structural schemas carry no types under these.
    const passes = (sub: JsonObject) => {
      const w = new Walker(false);
      w.walk({ ...sub, default: undefined }, structuredClone(value), path);
      return w.errors.length === 0;
    };
    if (schema.allOf) for (const sub of schema.allOf) if (!passes(sub)) this.errors.push(invalidValue(at, value, `${at} in body must validate all the schemas (allOf)`));
    if (schema.anyOf && !schema.anyOf.some(passes)) this.errors.push(invalidValue(at, value, `${at} in body must validate at least one schema (anyOf)`));
    if (schema.oneOf && schema.oneOf.filter(passes).length !== 1) {
      this.errors.push(invalidValue(at, value, `${at} in body must validate one and only one schema (oneOf)`));
    }
    if (schema.not && passes(schema.not)) this.errors.push(invalidValue(at, value, `${at} in body must not validate the schema (not)`));
  }
}

/** Defaults, prunes (in place) and validates a custom resource against its version's schema. */
export function validateCustomResource(schema: JsonObject | undefined, object: JsonObject): SchemaResult {
  const walker = new Walker();
  if (schema) walker.walk(schema, object, '', true);
  return { errors: walker.errors, unknownFields: walker.unknownFields };
}
