import { readFileSync } from 'node:fs';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TestRunSpecSchema, TestRunStatusSchema } from '../../core/testrun.js';
import { crdSchemaValidator } from '../testing/crd-schema-validator.js';
import { structuralProblems } from '../testing/structural.js';
import { validate } from '../testing/validate.js';
import { structuralSchema, UnsupportedSchemaError, type JSONSchemaProps } from './structural-schema.js';
import { TESTRUN_PRINTER_COLUMNS, testRunCrd, testRunOpenApiSchema } from './testrun-crd.js';

/** The schema node a printer column's JSONPath (`.status.summary.stepsPassed`) reads. */
function nodeAt(schema: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = schema;
  for (const part of jsonPath.slice(1).split('.')) node = node?.properties?.[part];
  return node;
}

/** Every property below `node` without a description, by path. */
function undescribed(node: JSONSchemaProps, path: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    if (!v.description) out.push(`${path}.${k}`);
    out.push(...undescribed(v, `${path}.${k}`));
  }
  if (node.items) out.push(...undescribed(node.items, `${path}[]`));
  if (node.additionalProperties) out.push(...undescribed(node.additionalProperties, `${path}[*]`));
  return out;
}

describe('the TestRun CRD', () => {
  const crd = testRunCrd();
  const schema = testRunOpenApiSchema();

  it('is a valid apiextensions.k8s.io/v1 CustomResourceDefinition', () => {
    expect(() => validate(CustomResourceDefinition, crd)).not.toThrow();
    expect(crd.metadata.name).toBe('testruns.topas.dev');
    expect(crd.spec.names).toMatchObject({ kind: 'TestRun', plural: 'testruns', shortNames: ['tr'], categories: ['topas'] });
    expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('has a structural schema the API server accepts', () => {
    expect(structuralProblems(schema as Record<string, unknown>)).toEqual([]);
  });

  it('describes every field of spec and status', () => {
    expect(undescribed(schema.properties!.spec!, 'spec')).toEqual([]);
    expect(undescribed(schema.properties!.status!, 'status')).toEqual([]);
  });

  it('types fields as Kubernetes does: quantities int-or-string, timeout a Go duration, conditions a map list', () => {
    const spec = schema.properties!.spec!;
    const memory = spec.properties!.runner!.properties!.resources!.properties!.limits!.additionalProperties!;
    expect(memory).toMatchObject({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });
    expect(new RegExp(memory.pattern!).test('512Mi')).toBe(true);
    expect(new RegExp(memory.pattern!).test('lots')).toBe(false);
    expect(spec.properties!.timeout).toMatchObject({ type: 'string', pattern: '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$' });
    expect(spec.properties!.env).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(spec.properties!.git!.required).toEqual(['url', 'path']);
    const conditions = schema.properties!.status!.properties!.conditions!;
    expect(conditions).toMatchObject({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
    expect(conditions.items!.required).toEqual(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    expect(schema.properties!.status!.properties!.phase!.enum).toEqual(['Queued', 'Running', 'Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled']);
    expect(schema.properties!.status!.properties!.startTime).toMatchObject({ type: 'string', format: 'date-time' });
  });

  it('carries the exactly-one-source rule as CEL beside the zod refinement', () => {
    const rules = schema.properties!.spec!['x-kubernetes-validations']!.map((v) => v.rule);
    expect(rules).toContain('(has(self.script) ? 1 : 0) + (has(self.git) ? 1 : 0) + (has(self.definition) ? 1 : 0) == 1');
    const envFrom = schema.properties!.spec!.properties!.envFrom!.items!;
    expect(envFrom['x-kubernetes-validations']![0]!.rule).toBe('has(self.secretRef) != has(self.configMapRef)');
  });

  it('prints Phase, App, Passed, Failed, Duration and Age from fields the schema has', () => {
    expect(TESTRUN_PRINTER_COLUMNS.filter((c) => !('priority' in c)).map((c) => c.name)).toEqual(['Phase', 'App', 'Passed', 'Failed', 'Duration', 'Age']);
    for (const column of TESTRUN_PRINTER_COLUMNS) {
      if (column.jsonPath.startsWith('.metadata')) continue;
      const node = nodeAt(schema, column.jsonPath);
      expect(node, column.jsonPath).toBeDefined();
      expect(node!.type).toBe(column.type === 'date' ? 'string' : column.type);
    }
  });

  it('refuses a zod shape it cannot write structurally, naming the field', () => {
    expect(() => structuralSchema(z.strictObject({ a: z.union([z.string(), z.boolean()]) }))).toThrow(UnsupportedSchemaError);
    expect(() => structuralSchema(z.strictObject({ a: z.union([z.string(), z.boolean()]) }))).toThrow(/^a: /);
  });

  it('is generated from the spec schema: a field added there appears in the CRD', () => {
    expect(Object.keys(schema.properties!.spec!.properties!).sort()).toEqual(Object.keys(TestRunSpecSchema.shape).sort());
  });

  it('has every spec field in the table of docs/kubernetes.md', () => {
    const docs = readFileSync(new URL('../../../docs/kubernetes.md', import.meta.url), 'utf8');
    // Kubernetes' own shapes are documented as one row each.
    const opaque = ['spec.runner.resources', 'spec.runner.tolerations'];
    const leaves: string[] = [];
    const walk = (node: JSONSchemaProps, path: string) => {
      if (opaque.includes(path)) return void leaves.push(path);
      const children = node.properties ?? node.items?.properties;
      if (!children) return void leaves.push(path);
      for (const [k, v] of Object.entries(children)) walk(v, `${path}${node.items ? '[]' : ''}.${k}`);
    };
    walk(schema.properties!.spec!, 'spec');
    expect(leaves.filter((p) => !docs.includes(`\`${p}\``))).toEqual([]);
  });
});

describe('the CRD schema and the zod schema', () => {
  const check = crdSchemaValidator(testRunOpenApiSchema());
  const resource = (spec: unknown, status?: unknown) => ({ apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name: 'x' }, spec, ...(status ? { status } : {}) });

  it('accept the same specs', () => {
    const good = [
      { script: 'assert(true)', appName: 'shop', timeout: '1h30m', env: { A: '1' }, readOnly: true, ttlSecondsAfterFinished: 60 },
      { git: { url: 'file:///srv/t.git', path: 'a/b.lua', revision: 'v1', secretRef: { name: 'creds' } } },
      { definition: 'checkout-smoke', envFrom: [{ secretRef: { name: 'db' } }, { configMapRef: { name: 'urls.v1' } }] },
      { script: 'x', runner: { image: 'img:1', resources: { requests: { cpu: '250m' }, limits: { memory: '1Gi', cpu: 2 } }, nodeSelector: { a: 'b' }, tolerations: [{ operator: 'Exists' }] } },
    ];
    for (const spec of good) {
      expect(TestRunSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(true);
      expect(check(resource(spec)), JSON.stringify(spec)).toEqual([]);
    }
  });

  it('refuse the same bad fields (the one-source rule is CEL, checked above)', () => {
    const bad: [unknown, string][] = [
      [{ script: 'x', timeout: '10' }, '/spec/timeout'],
      [{ script: 'x', timeout: '' }, '/spec/timeout'],
      [{ script: '' }, '/spec/script'],
      [{ script: 'x', appName: 'Shop_1' }, '/spec/appName'],
      [{ script: 'x', readOnly: 'yes' }, '/spec/readOnly'],
      [{ script: 'x', ttlSecondsAfterFinished: -1 }, '/spec/ttlSecondsAfterFinished'],
      [{ git: { url: 'u' } }, '/spec/git'],
      [{ script: 'x', envFrom: [{ secretRef: { name: 'Bad Name' } }] }, '/spec/envFrom/0/secretRef/name'],
      [{ script: 'x', runner: { resources: { limits: { memory: 'lots' } } } }, '/spec/runner/resources/limits/memory'],
      [{ script: 'x', runner: { tolerations: [{ effect: 'Sometimes' }] } }, '/spec/runner/tolerations/0/effect'],
      [{ script: 'x', fileName: 'a/b.lua' }, '/spec/fileName'],
    ];
    for (const [spec, path] of bad) {
      expect(TestRunSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(false);
      expect(check(resource(spec)).some((p) => p.startsWith(path)), `${JSON.stringify(spec)}: ${check(resource(spec)).join('; ')}`).toBe(true);
    }
  });

  it('accept the statuses topas writes', () => {
    const status = {
      phase: 'Failed',
      runId: '0190f3b4-7c1a-7d2e-8f00-0123456789ab',
      startTime: '2026-01-01T00:00:00.000Z',
      duration: '1.4s',
      observedGeneration: 2,
      runGeneration: 1,
      summary: { stepsPassed: 1, stepsFailed: 1, stepsSkipped: 0, assertionsPassed: 1, assertionsFailed: 1 },
      reason: 'AssertionFailed',
      message: 'a.lua:1: boom',
      conditions: [{ type: 'Ready', status: 'True', reason: 'ResourcesCreated', message: '', lastTransitionTime: '2026-01-01T00:00:00.000Z', observedGeneration: 2 }],
    };
    expect(TestRunStatusSchema.safeParse(status).success).toBe(true);
    expect(check(resource({ script: 'x' }, status))).toEqual([]);
    expect(check(resource({ script: 'x' }, { phase: 'Succeeded' }))[0]).toMatch(/^\/status\/phase/);
  });
});
