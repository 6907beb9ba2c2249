/**
 * Rendered manifests (`helm template`, `kubectl kustomize`) as objects, each validated
 * against the official Kubernetes OpenAPI schema of its kind (kubernetes-models, as the
 * manifest tests do). kubernetes-models checks types, required fields and formats, not
 * unknown fields. Kinds it has no schema for (the Prometheus Operator's ServiceMonitor)
 * are returned for the caller to check by hand.
 */
import { parseAllDocuments } from 'yaml';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

/** API groups kubernetes-models has no schema for. */
const NO_SCHEMA = new Set(['monitoring.coreos.com/v1']);

/** The non-empty YAML documents of a multi-document text. */
export function parseObjects(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as KubeObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

/** Validates every object against its kind's schema; throws naming the object and what is wrong. */
export async function validateObjects(objects: readonly KubeObject[]): Promise<{ unvalidated: KubeObject[] }> {
  const unvalidated: KubeObject[] = [];
  for (const o of objects) {
    if (NO_SCHEMA.has(o.apiVersion)) {
      unvalidated.push(o);
      continue;
    }
    const models = (await import(/* @vite-ignore */ `kubernetes-models/${o.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = models[o.kind];
    if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind} (${o.metadata?.name})`);
    try {
      new Model(o).validate();
    } catch (error) {
      throw new Error(`${o.kind} ${o.metadata?.name}: ${(error as Error).message}`);
    }
  }
  return { unvalidated };
}

/** The one object of this kind (and name, if given); throws when there is not exactly one. */
export function one(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0]!;
}

/** `kind/name` of each object, sorted: what a user sees in `kubectl get`. */
export function inventory(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}
