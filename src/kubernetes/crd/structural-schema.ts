/**
 * A zod schema as a CRD's `openAPIV3Schema`: a *structural* schema (every node has a
 * `type`; no `additionalProperties` beside `properties`; value validations only inside
 * `anyOf`), with the descriptions and `x-kubernetes-*` extensions of the zod `.meta()`.
 *
 * It reads the shapes topas's core schemas use — objects, records, arrays, strings
 * (length, pattern, format), integers and numbers (bounds), booleans, enums, literals,
 * optional / nullable / default wrappers (a default becomes the CRD's `default`) and the integer-or-string union of quantities — and
 * throws {@link UnsupportedSchemaError} for anything else, so a new kind of field is a
 * failing test, not a silently wrong CRD. Refinements (`superRefine`) cannot be
 * translated: give them a CEL twin with `.meta({'x-kubernetes-validations': [...]})`.
 */
import type { z } from 'zod';
import { globalRegistry } from 'zod';
import { TopasError } from '../../core/errors.js';

/** The part of apiextensions.k8s.io/v1 `JSONSchemaProps` topas writes. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  /** Applied by the API server when the field is missing (zod's `.default()`). */
  default?: unknown;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  enum?: (string | number | boolean)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string; fieldPath?: string }[];
}

export class UnsupportedSchemaError extends TopasError {
  constructor(path: string, what: string) {
    super('UnsupportedSchema', `${path || '(root)'}: ${what} has no structural OpenAPI form; model it as an object, record, array or scalar`, { path });
  }
}

/** Meta keys copied into the OpenAPI node as they are. */
const COPIED_META = ['description', 'format', 'x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields'] as const;

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  checks?: { _zod: { def: Record<string, unknown> } }[];
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  element?: AnySchema;
  options?: AnySchema[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  defaultValue?: unknown;
}

const defOf = (s: AnySchema) => s._zod.def as unknown as Def;

/** The OpenAPI v3 schema of `schema` (see the file comment for what is supported). */
export function structuralSchema(schema: AnySchema, path = ''): JSONSchemaProps {
  const def = defOf(schema);
  let node: JSONSchemaProps;
  switch (def.type) {
    case 'default':
      // The API server applies it (structural defaulting), as zod does on parse.
      node = { ...structuralSchema(def.innerType!, path), default: structuredClone(def.defaultValue) };
      break;
    case 'optional':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      node = structuralSchema(def.innerType!, path);
      break;
    case 'nullable':
      node = { ...structuralSchema(def.innerType!, path), nullable: true };
      break;
    case 'pipe':
      node = structuralSchema(def.in!, path);
      break;
    case 'object': {
      const properties: Record<string, JSONSchemaProps> = {};
      const required: string[] = [];
      for (const [key, field] of Object.entries(def.shape!)) {
        properties[key] = structuralSchema(field, path ? `${path}.${key}` : key);
        if (field._zod.optin !== 'optional' && field._zod.optin !== 'defaulted') required.push(key);
      }
      node = { type: 'object', properties, ...(required.length ? { required } : {}) };
      break;
    }
    case 'record':
      node = { type: 'object', additionalProperties: structuralSchema(def.valueType!, `${path}[*]`) };
      break;
    case 'array':
      node = { type: 'array', items: structuralSchema(def.element!, `${path}[]`) };
      break;
    case 'string':
      node = { type: 'string' };
      break;
    case 'number':
      node = { type: 'number' };
      break;
    case 'int':
      node = { type: 'integer' };
      break;
    case 'boolean':
      node = { type: 'boolean' };
      break;
    case 'enum':
      node = { type: 'string', enum: Object.values(def.entries!) as string[] };
      if (node.enum!.some((v) => typeof v !== 'string')) throw new UnsupportedSchemaError(path, 'a non-string enum');
      break;
    case 'literal': {
      const types = new Set(def.values!.map((v) => typeof v));
      if (types.size !== 1 || !['string', 'number', 'boolean'].includes([...types][0]!)) throw new UnsupportedSchemaError(path, 'a literal of mixed or non-scalar type');
      const t = [...types][0] as 'string' | 'number' | 'boolean';
      node = { type: t === 'number' ? 'number' : t, enum: def.values as (string | number | boolean)[] };
      break;
    }
    case 'union':
      node = intOrString(def.options!, path);
      break;
    default:
      throw new UnsupportedSchemaError(path, `a zod ${def.type}`);
  }
  applyChecks(node, def);
  applyMeta(node, schema);
  return node;
}

/** A union is structural only as Kubernetes' integer-or-string (a quantity, a port name). */
function intOrString(options: AnySchema[], path: string): JSONSchemaProps {
  const nodes = options.map((o) => structuralSchema(o, path));
  const types = nodes.map((n) => n.type).sort();
  if (nodes.length !== 2 || types[0] !== 'integer' || types[1] !== 'string') throw new UnsupportedSchemaError(path, 'a union other than integer-or-string');
  const str = nodes.find((n) => n.type === 'string')!;
  return {
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...(str.pattern ? { pattern: str.pattern } : {}),
  };
}

function applyChecks(node: JSONSchemaProps, def: Def): void {
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    switch (c.check) {
      case 'min_length':
        if (node.type === 'array') node.minItems = c.minimum as number;
        else node.minLength = c.minimum as number;
        break;
      case 'max_length':
        if (node.type === 'array') node.maxItems = c.maximum as number;
        else node.maxLength = c.maximum as number;
        break;
      case 'string_format':
        if (c.format === 'regex') {
          // Several patterns would need allOf; topas's schemas use one per string.
          node.pattern = (c.pattern as RegExp).source;
        } else if (c.format === 'datetime') node.format = 'date-time';
        break;
      case 'number_format':
        if (c.format === 'safeint' || c.format === 'int32' || c.format === 'int64') node.type = 'integer';
        break;
      case 'greater_than':
        node.minimum = c.value as number;
        if (!c.inclusive) node.exclusiveMinimum = true;
        break;
      case 'less_than':
        node.maximum = c.value as number;
        if (!c.inclusive) node.exclusiveMaximum = true;
        break;
      default:
        // `custom` (superRefine) and the like: not expressible; see the file comment.
        break;
    }
  }
}

function applyMeta(node: JSONSchemaProps, schema: AnySchema): void {
  const meta = globalRegistry.get(schema) as Record<string, unknown> | undefined;
  if (!meta) return;
  for (const key of COPIED_META) {
    if (meta[key] !== undefined) (node as Record<string, unknown>)[key] = meta[key];
  }
}
