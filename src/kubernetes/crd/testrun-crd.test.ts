import { readFileSync } from 'node:fs';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TestRunSpecSchema } from '../../core/testrun.js';
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
