/**
 * Validates a custom resource against a CRD's `openAPIV3Schema` the way the API server
 * does for what topas's schemas use (types, required, patterns, lengths, bounds, enums,
 * int-or-string), with ajv. It does not run the CEL rules, prune unknown fields or apply
 * defaults. Test-only (the ajv 6 already in node_modules; it knows `date-time`).
 */
import Ajv from 'ajv';
import type { JSONSchemaProps } from '../crd/structural-schema.js';

/** Kubernetes' `x-kubernetes-*` keys have no JSON Schema meaning here; OpenAPI's `nullable` becomes a `null` type. */
function toJsonSchema(node: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-') || k === 'nullable') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, JSONSchemaProps>).map(([p, s]) => [p, toJsonSchema(s)]));
    else if (k === 'items' || k === 'additionalProperties') out[k] = toJsonSchema(v as JSONSchemaProps);
    else if (k === 'anyOf') out[k] = (v as JSONSchemaProps[]).map(toJsonSchema);
    else out[k] = v;
  }
  // OpenAPI's boolean exclusiveMinimum/Maximum are numbers in the JSON Schema ajv speaks.
  for (const [bound, exclusive] of [['minimum', 'exclusiveMinimum'], ['maximum', 'exclusiveMaximum']] as const) {
    if (out[exclusive] === true) {
      out[exclusive] = out[bound];
      delete out[bound];
    } else delete out[exclusive];
  }
  // OpenAPI's nullable: null is a value of the type too.
  if (node.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  // int-or-string: a pattern applies to the string form only.
  if (node['x-kubernetes-int-or-string'] && node.pattern) {
    delete out.pattern;
    out.anyOf = [{ type: 'integer' }, { type: 'string', pattern: node.pattern }];
  }
  return out;
}

/** A validator for objects of this schema: returns the problems as `path: message`. */
export function crdSchemaValidator(schema: JSONSchemaProps): (object: unknown) => string[] {
  const ajv = new Ajv({ allErrors: true, unknownFormats: 'ignore' });
  const validate = ajv.compile(toJsonSchema(schema));
  return (object) => (validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath.replace(/\.([A-Za-z_]\w*)|\[(\d+)\]|\['([^']*)'\]/g, (_, a, b, c) => `/${a ?? b ?? c}`) || '/'}: ${e.message}`));
}
