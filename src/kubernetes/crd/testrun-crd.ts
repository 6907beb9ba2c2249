/**
 * The `testruns.topas.dev` CustomResourceDefinition, generated from the core zod
 * schemas (`src/core/testrun.ts`): `topas crds` prints it and
 * `deploy/crds/testruns.topas.dev.yaml` is this, written out.
 */
import {
  TESTRUN_GROUP,
  TESTRUN_KIND,
  TESTRUN_PLURAL,
  TESTRUN_SHORT_NAMES,
  TESTRUN_SINGULAR,
  TESTRUN_VERSION,
  TestRunSpecSchema,
  TestRunStatusSchema,
  TOPAS_CATEGORY,
} from '../../core/testrun.js';
import { MANAGED_BY_LABELS } from '../manifests/labels.js';
import { appCrd } from './app-crd.js';
import { structuralSchema, type JSONSchemaProps } from './structural-schema.js';

/** The printer columns of `kubectl get testruns`. */
export const TESTRUN_PRINTER_COLUMNS = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'The run\'s phase.' },
  { name: 'App', type: 'string', jsonPath: '.spec.appName', description: 'The App the run targets.' },
  { name: 'Passed', type: 'integer', jsonPath: '.status.summary.stepsPassed', description: 'Tests and steps that passed.' },
  { name: 'Failed', type: 'integer', jsonPath: '.status.summary.stepsFailed', description: 'Tests and steps that failed.' },
  { name: 'Duration', type: 'string', jsonPath: '.status.duration', description: 'How long the run took.' },
  { name: 'Reason', type: 'string', jsonPath: '.status.reason', description: 'Why the run did not pass.', priority: 1 },
  { name: 'Run', type: 'string', jsonPath: '.status.runId', description: 'The run\'s id in topas.', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
] as const;

/** The whole object schema of a TestRun (apiVersion, kind, metadata, spec, status). */
export function testRunOpenApiSchema(): JSONSchemaProps {
  return {
    type: 'object',
    description: 'A test run: a Lua test executed by topas in a runner Pod, recorded in topas with its log, steps and assertions.',
    properties: {
      apiVersion: { type: 'string', description: 'topas.dev/v1alpha1' },
      kind: { type: 'string', description: 'TestRun' },
      metadata: { type: 'object' },
      spec: structuralSchema(TestRunSpecSchema, 'spec'),
      status: structuralSchema(TestRunStatusSchema, 'status'),
    },
    required: ['spec'],
  };
}

/** The CRD as a plain object (apiextensions.k8s.io/v1). */
export function testRunCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${TESTRUN_PLURAL}.${TESTRUN_GROUP}`,
      labels: { ...MANAGED_BY_LABELS },
    },
    spec: {
      group: TESTRUN_GROUP,
      scope: 'Namespaced',
      names: {
        kind: TESTRUN_KIND,
        listKind: `${TESTRUN_KIND}List`,
        plural: TESTRUN_PLURAL,
        singular: TESTRUN_SINGULAR,
        shortNames: [...TESTRUN_SHORT_NAMES],
        categories: [TOPAS_CATEGORY],
      },
      versions: [
        {
          name: TESTRUN_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: TESTRUN_PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: testRunOpenApiSchema() },
        },
      ],
    },
  };
}

/** Every CRD topas defines. */
export function topasCrds() {
  return [testRunCrd(), appCrd()];
}
