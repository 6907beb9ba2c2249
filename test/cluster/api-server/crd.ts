/**
 * CustomResourceDefinitions: the checks a CRD must pass to be stored (names,
 * group, scope, exactly one storage version, a structural schema per version) and the
 * status the real server gives an accepted one (NamesAccepted, Established).
 */
import { invalidValue, notSupported, required, type FieldError, type JsonObject } from './errors.js';
import { checkStructural } from './structural-schema.js';

/** Field errors of a CRD, and the unknown keys removed from its schemas. */
export function validateCrd(crd: JsonObject): { errors: FieldError[]; unknownFields: string[] } {
  const errors: FieldError[] = [];
  const unknownFields: string[] = [];
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (!spec.group) errors.push(required('spec.group'));
  if (!names.plural) errors.push(required('spec.names.plural'));
  if (!names.kind) errors.push(required('spec.names.kind'));
  if (spec.group && names.plural && crd.metadata.name !== `${names.plural}.${spec.group}`) {
    errors.push(invalidValue('metadata.name', crd.metadata.name, `must be spec.names.plural+"."+spec.group`));
  }
  if (!['Namespaced', 'Cluster'].includes(spec.scope)) errors.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions: JsonObject[] = spec.versions ?? [];
  if (versions.length === 0) errors.push(required('spec.versions'));
  if (versions.filter((v) => v.storage).length !== 1) errors.push(invalidValue('spec.versions', versions.length, 'must have exactly one version marked as storage version'));
  versions.forEach((v, i) => {
    if (!v.name) errors.push(required(`spec.versions[${i}].name`));
    if (!v.schema?.openAPIV3Schema) errors.push(required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
    else if (v.schema.openAPIV3Schema.type !== 'object') {
      errors.push(invalidValue(`spec.versions[${i}].schema.openAPIV3Schema.type`, v.schema.openAPIV3Schema.type, 'must be object at the root'));
    } else {
      const structural = checkStructural(v.schema.openAPIV3Schema, `spec.versions[${i}].schema.openAPIV3Schema`);
      errors.push(...structural.errors);
      unknownFields.push(...structural.unknownFields);
    }
  });
  return { errors, unknownFields };
}

export function crdStatus(crd: JsonObject, now: string): JsonObject {
  const names = crd.spec.names;
  const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
  return {
    acceptedNames: {
      plural: names.plural,
      singular: names.singular ?? String(names.kind).toLowerCase(),
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      ...(names.shortNames ? { shortNames: names.shortNames } : {}),
      ...(names.categories ? { categories: names.categories } : {}),
    },
    conditions: [condition('NamesAccepted', 'NoConflicts', 'no conflicts found'), condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
    storedVersions: [(crd.spec.versions as JsonObject[]).find((v) => v.storage)?.name],
  };
}
