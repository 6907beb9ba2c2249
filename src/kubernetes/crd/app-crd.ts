/**
 * The `apps.topas.dev` CustomResourceDefinition, generated from the core zod schemas
 * (`src/core/app.ts`): the spec from `AppSpecSchema` (the same schema that validates
 * `topas app apply`), the status from `AppStatusSchema`. `topas crds` prints it and
 * `deploy/crds/apps.topas.dev.yaml` is this, written out.
 *
 * The status has a real schema rather than `x-kubernetes-preserve-unknown-fields`:
 * `kubectl explain app.status` documents it, the printer columns point at declared
 * fields, and a field the controller writes but the schema lacks is caught by the test
 * that validates `appStatusFromChildren`'s output against it (the API server would
 * prune it silently).
 *
 * Names: plural `apps`, singular `app`, category `topas`, no short names — `apps` is
 * also the group of Deployments, but no built-in resource is called `app`/`apps`, so
 * `kubectl get app demo` and `kubectl get apps` reach this resource.
 */
import { APP_KIND, AppSpecSchema, AppStatusSchema } from '../../core/app.js';
import { TESTRUN_GROUP, TESTRUN_VERSION, TOPAS_CATEGORY } from '../../core/testrun.js';
import { MANAGED_BY_LABELS } from '../manifests/labels.js';
import { structuralSchema, type JSONSchemaProps } from './structural-schema.js';

export const APP_GROUP = TESTRUN_GROUP;
export const APP_VERSION = TESTRUN_VERSION;
export const APP_PLURAL = 'apps';
export const APP_SINGULAR = 'app';

const READY = '.status.conditions[?(@.type=="Ready")]';

/** The printer columns of `kubectl get apps` (priority 1: only with `-o wide`). */
export const APP_PRINTER_COLUMNS = [
  { name: 'Ready', type: 'string', jsonPath: `${READY}.status`, description: 'Whether every service and database is ready.' },
  { name: 'Services', type: 'string', jsonPath: '.status.summary.services', description: 'Ready services over all.' },
  { name: 'Databases', type: 'string', jsonPath: '.status.summary.databases', description: 'Ready databases over all.' },
  { name: 'Reason', type: 'string', jsonPath: `${READY}.reason`, description: 'Why the App is (not) ready.', priority: 1 },
  { name: 'Message', type: 'string', jsonPath: `${READY}.message`, description: 'What is not ready yet.', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
] as const;

/**
 * CEL twins of `AppSpecSchema`'s refinement: service and database names are unique and
 * shared (they are host names). Port-name rules stay with topas's own validation.
 */
export const APP_SPEC_RULES = [
  { rule: '!has(self.services) || self.services.all(s, self.services.exists_one(t, t.name == s.name))', message: 'service names must be unique' },
  { rule: '!has(self.databases) || self.databases.all(d, self.databases.exists_one(e, e.name == d.name))', message: 'database names must be unique' },
  {
    rule: '!has(self.services) || !has(self.databases) || self.services.all(s, !self.databases.exists(d, d.name == s.name))',
    message: 'service and database names share one namespace (they are host names)',
  },
];

/** The whole object schema of an App (apiVersion, kind, metadata, spec, status). */
export function appOpenApiSchema(): JSONSchemaProps {
  const spec = structuralSchema(AppSpecSchema, 'spec');
  spec.description = 'The system under test: its services (Deployments and Services) and PostgreSQL databases (StatefulSets).';
  spec['x-kubernetes-validations'] = APP_SPEC_RULES;
  const status = structuralSchema(AppStatusSchema, 'status');
  status.description = 'What the App runs and whether it is ready; written by the controller.';
  status.properties!.conditions = { ...status.properties!.conditions!, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] };
  return {
    type: 'object',
    description: 'An App: the system under test, declared once and run by topas — as local processes, or on Kubernetes as the Deployments, StatefulSets, Services, Secrets and Jobs it owns.',
    properties: {
      apiVersion: { type: 'string', description: 'topas.dev/v1alpha1' },
      kind: { type: 'string', description: 'App' },
      metadata: { type: 'object' },
      spec,
      status,
    },
    required: ['spec'],
  };
}

/** The CRD as a plain object (apiextensions.k8s.io/v1). */
export function appCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${APP_PLURAL}.${APP_GROUP}`,
      labels: { ...MANAGED_BY_LABELS },
    },
    spec: {
      group: APP_GROUP,
      scope: 'Namespaced',
      names: {
        kind: APP_KIND,
        listKind: `${APP_KIND}List`,
        plural: APP_PLURAL,
        singular: APP_SINGULAR,
        categories: [TOPAS_CATEGORY],
      },
      versions: [
        {
          name: APP_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: APP_PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: appOpenApiSchema() },
        },
      ],
    },
  };
}
