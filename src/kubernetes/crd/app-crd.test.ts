import { readFileSync } from 'node:fs';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AppSpecSchema } from '../../core/app.js';
import { crdsYaml } from '../deploy-files.js';
import { crdSchemaValidator } from '../testing/crd-schema-validator.js';
import { structuralProblems } from '../testing/structural.js';
import { validate } from '../testing/validate.js';
import { APP_PRINTER_COLUMNS, APP_SPEC_RULES, appCrd, appOpenApiSchema } from './app-crd.js';
import type { JSONSchemaProps } from './structural-schema.js';

const demo = parse(readFileSync(new URL('../../../examples/apps/demo/app.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;

/** The schema node a printer column's JSONPath reads (`[?(@.type=="Ready")]` steps into the list's items). */
function nodeAt(schema: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = schema;
  for (const part of jsonPath.replace(/\[\?\(.*?\)\]/g, '[]').slice(1).split('.')) {
    const name = part.replace('[]', '');
    node = node?.properties?.[name];
    if (part.endsWith('[]')) node = node?.items;
  }
  return node;
}

describe('the App CRD', () => {
  const crd = appCrd();
  const schema = appOpenApiSchema();

  it('is a valid CustomResourceDefinition named as the brief says: apps.topas.dev, singular app, category topas, no short names', () => {
    expect(() => validate(CustomResourceDefinition, crd)).not.toThrow();
    expect(crd.metadata.name).toBe('apps.topas.dev');
    expect(crd.spec.names).toEqual({ kind: 'App', listKind: 'AppList', plural: 'apps', singular: 'app', categories: ['topas'] });
    expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('has a structural schema the API server accepts', () => {
    expect(structuralProblems(schema as Record<string, unknown>)).toEqual([]);
  });

  it('prints Ready, Services, Databases and Age (Reason and Message with -o wide) from fields the schema has', () => {
    expect(APP_PRINTER_COLUMNS.filter((c) => !('priority' in c)).map((c) => c.name)).toEqual(['Ready', 'Services', 'Databases', 'Age']);
    expect(APP_PRINTER_COLUMNS.filter((c) => 'priority' in c).map((c) => c.name)).toEqual(['Reason', 'Message']);
    for (const column of APP_PRINTER_COLUMNS) {
      if (column.jsonPath.startsWith('.metadata')) continue;
      const node = nodeAt(schema, column.jsonPath);
      expect(node, column.jsonPath).toBeDefined();
      expect(node!.type).toBe(column.type);
    }
    const conditions = schema.properties!.status!.properties!.conditions!;
    expect(conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });

  it('is generated from AppSpecSchema: every spec field is in the CRD', () => {
    const spec = schema.properties!.spec!;
    expect(Object.keys(spec.properties!).sort()).toEqual(['databases', 'services']);
    const service = spec.properties!.services!.items!;
    expect(Object.keys(service.properties!).sort()).toEqual(['envVars', 'image', 'local', 'name', 'port', 'ports', 'replicas', 'version']);
    expect(service.properties!.port).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535 });
    expect(spec.properties!.databases!.items!.required).toEqual(['name', 'credentials']);
    expect(spec['x-kubernetes-validations']).toEqual(APP_SPEC_RULES);
  });

  it('is what topas crds prints, after the TestRun CRD', () => {
    const docs = crdsYaml().split(/^---\n/m).filter(Boolean).map((d) => parse(d) as { metadata: { name: string } });
    expect(docs.map((d) => d.metadata.name)).toEqual(['testruns.topas.dev', 'apps.topas.dev']);
  });
});

describe('the App CRD schema and the zod schema', () => {
  const check = crdSchemaValidator(appOpenApiSchema());
  const resource = (spec: unknown, status?: unknown) => ({ apiVersion: 'topas.dev/v1alpha1', kind: 'App', metadata: { name: 'x' }, spec, ...(status ? { status } : {}) });

  it('accept the demo App and other valid specs', () => {
    const good = [
      demo.spec,
      {},
      { services: [{ name: 'web', image: 'nginx', version: '1.27', port: 80, replicas: 0 }] },
      { databases: [{ name: 'db', credentials: { user: 'u', dbname: 'd' } }] },
      { services: [{ name: 'api', version: 'v1', port: 8080, local: { command: ['x'], readinessProbe: { tcpSocket: {}, periodSeconds: 0.5 } } }] },
    ];
    for (const spec of good) {
      expect(AppSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(true);
      expect(check(resource(spec)), JSON.stringify(spec)).toEqual([]);
    }
  });

  it('refuse the same bad fields', () => {
    const bad: [unknown, string][] = [
      [{ services: [{ name: 'Web', version: 'v1', port: 80 }] }, '/spec/services/0/name'],
      [{ services: [{ name: 'web', version: 'v1', port: 0 }] }, '/spec/services/0/port'],
      [{ services: [{ name: 'web', version: 'v1', port: 80, replicas: 101 }] }, '/spec/services/0/replicas'],
      [{ services: [{ name: 'web', port: 80 }] }, '/spec/services/0'],
      [{ databases: [{ name: 'db', credentials: { user: 'u' } }] }, '/spec/databases/0/credentials'],
      [{ services: [{ name: 'web', version: 'v1', port: 80, local: { command: [] } }] }, '/spec/services/0/local/command'],
    ];
    for (const [spec, path] of bad) {
      expect(AppSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(false);
      const problems = check(resource(spec));
      expect(problems.some((p) => p.startsWith(path)), `${JSON.stringify(spec)}: ${problems.join('; ')}`).toBe(true);
    }
  });
});
