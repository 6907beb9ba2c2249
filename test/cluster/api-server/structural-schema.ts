/**
 * The rules that make a CRD schema "structural", which apiextensions.k8s.io/v1
 * requires before it stores a CRD: every field has a `type` (unless it is
 * int-or-string or preserves unknown fields), `properties` and
 * `additionalProperties` are exclusive, `additionalProperties: false` and
 * `uniqueItems: true` are forbidden, arrays have `items`, `$ref` and friends are
 * not supported, and anyOf/allOf/oneOf/not only validate values (no types or
 * defaults inside). Keys JSONSchemaProps does not have (`const`, `$defs`…) are
 * unknown fields of the CRD, as on the real server.
 */
import { forbidden, required, type FieldError, type JsonObject } from './errors.js';

const known = new Set([
  'id', '$schema', '$ref', 'description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum', 'minimum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum',
  'maxProperties', 'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'properties',
  'additionalProperties', 'patternProperties', 'dependencies', 'additionalItems', 'definitions', 'externalDocs', 'example',
  'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);

const unsupported = ['$ref', '$schema', 'id', 'definitions', 'patternProperties', 'dependencies', 'additionalItems'];
const notInValueValidation = ['type', 'additionalProperties', 'default', 'nullable', 'description', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource'];

export interface StructuralResult {
  errors: FieldError[];
  /** Paths of keys JSONSchemaProps does not have (removed from the schema). */
  unknownFields: string[];
}

export function checkStructural(schema: JsonObject, path: string): StructuralResult {
  const result: StructuralResult = { errors: [], unknownFields: [] };
  walk(schema, path, false, result);
  return result;
}

function walk(s: JsonObject, path: string, valueValidation: boolean, out: StructuralResult): void {
  if (typeof s !== 'object' || s === null) return;
  for (const key of Object.keys(s)) {
    if (!known.has(key)) {
      out.unknownFields.push(`${path}.${key}`);
      delete s[key];
    }
  }
  for (const key of unsupported) if (s[key] !== undefined) out.errors.push(forbidden(`${path}.${key}`, `${key} is not supported`));
  if (s.uniqueItems === true) out.errors.push(forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (valueValidation) {
    for (const key of notInValueValidation) if (s[key] !== undefined) out.errors.push(forbidden(`${path}.${key}`, 'must be empty to be structural'));
  } else {
    const free = s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true;
    if (!s.type && !free) out.errors.push(required(`${path}.type`, 'must not be empty for specified object fields'));
    if (s.properties && s.additionalProperties !== undefined) {
      out.errors.push(forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
    if (s.additionalProperties === false) out.errors.push(forbidden(`${path}.additionalProperties`, 'additionalProperties cannot be set to false'));
    if (s.type === 'array' && !s.items) out.errors.push(required(`${path}.items`, 'must be specified'));
  }
  for (const [name, sub] of Object.entries<JsonObject>(s.properties ?? {})) walk(sub, `${path}.properties[${name}]`, valueValidation, out);
  if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.additionalProperties`, valueValidation, out);
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) walk(s.items, `${path}.items`, valueValidation, out);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) (s[key] ?? []).forEach((sub: JsonObject, i: number) => walk(sub, `${path}.${key}[${i}]`, true, out));
  if (s.not) walk(s.not, `${path}.not`, true, out);
}
