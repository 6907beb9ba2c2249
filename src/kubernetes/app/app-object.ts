/** The App custom resource as the reconciler reads it from the API, turned into what the builders take. */
import { parseAppSpec, type AppStatus } from '../../core/app.js';
import type { AppObject } from './app-child-meta.js';

/** An `App` object as the API returns it (only the fields read here). */
export interface AppResource {
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number };
  spec?: unknown;
  status?: unknown;
}

/**
 * The App's identity, its spec validated by the same zod schema as `topas app apply`
 * (defaults applied; rules the CRD cannot express, e.g. unique port names, checked), and
 * its last status. Throws `ValidationError` naming the bad fields (`spec.services[0].port: …`).
 */
export function appObjectFromResource(resource: AppResource): AppObject {
  const m = resource.metadata ?? {};
  return {
    name: m.name ?? '',
    namespace: m.namespace ?? 'default',
    uid: m.uid ?? '',
    generation: m.generation ?? 0,
    spec: parseAppSpec(resource.spec ?? {}),
    status: (resource.status as AppStatus | undefined) ?? null,
  };
}
