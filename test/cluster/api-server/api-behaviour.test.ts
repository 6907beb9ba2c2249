/**
 * The API test server's behaviour as a client sees it over HTTP: concurrency,
 * generation, the status subresource, finalizers, garbage collection, selectors,
 * watches, schema validation and the Status bodies of failures.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JsonObject } from './errors.js';
import { startApiHarness, testRun, testRunCrd, testRunsPath, type ApiHarness } from './testing.js';

let h: ApiHarness;
const watchWindow = 50;

beforeAll(async () => {
  h = await startApiHarness({ server: { watchWindow, bookmarkIntervalMs: 50 } });
  expect((await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', testRunCrd())).status).toBe(201);
});
afterAll(() => h?.stop());

/** Opens a watch and collects its events until `stop()`. */
async function watch(query: string, urlPath = testRunsPath) {
  const controller = new AbortController();
  const res = await fetch(`${h.cluster.httpUrl}${urlPath}?watch=1&${query}`, { headers: { Authorization: `Bearer ${h.cluster.token}` }, signal: controller.signal });
  const events: JsonObject[] = [];
  let ended = false;
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return { events, stop: () => controller.abort(), ended: () => ended };
}

const summary = (events: JsonObject[]) => events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata?.name ?? e.object.code}`);

describe('the API test server', () => {
  it('checks the bearer token on every request', async () => {
    const res = await fetch(`${h.cluster.httpUrl}/api/v1/namespaces`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('answers a missing object with a NotFound Status naming it', async () => {
    const res = await h.api('GET', `${testRunsPath}/nope`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'testruns.topas.dev "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'topas.dev', kind: 'testruns' },
      code: 404,
    });
    expect((await h.api('POST', testRunsPath, testRun('twice'))).status).toBe(201);
    const again = await h.api('POST', testRunsPath, testRun('twice'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ reason: 'AlreadyExists', message: 'testruns.topas.dev "twice" already exists' });
  });

  it('discovers a CRD’s group as soon as the CRD is created', async () => {
    expect((await h.api('GET', '/apis/example.dev')).status).toBe(404);
    const crd = testRunCrd();
    crd.metadata.name = 'widgets.example.dev';
    crd.spec.group = 'example.dev';
    crd.spec.names = { plural: 'widgets', singular: 'widget', kind: 'Widget' };
    expect((await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    expect((await h.api('GET', '/apis')).body.groups.map((g: JsonObject) => g.name)).toContain('example.dev');
    const resources = (await h.api('GET', '/apis/example.dev/v1alpha1')).body.resources.map((r: JsonObject) => r.name);
    expect(resources).toEqual(['widgets', 'widgets/status']);
    const stored = (await h.api('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.dev')).body;
    expect(stored.status.conditions.find((c: JsonObject) => c.type === 'Established').status).toBe('True');
    expect((await h.api('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.dev')).status).toBe(200);
    expect((await h.api('GET', '/apis/example.dev')).status).toBe(404);
  });

  it('refuses an update with a stale resourceVersion (409 Conflict)', async () => {
    const created = (await h.api('POST', testRunsPath, testRun('contended'))).body;
    const first = await h.api('PUT', `${testRunsPath}/contended`, { ...created, spec: { ...created.spec, script: 'a' } });
    expect(first.status).toBe(200);
    expect(Number(first.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const stale = await h.api('PUT', `${testRunsPath}/contended`, { ...created, spec: { ...created.spec, script: 'b' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on testruns.topas.dev "contended": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'contended', group: 'topas.dev', kind: 'testruns' },
    });
  });

  it('bumps generation on spec changes only, and splits writes between the main and status endpoints', async () => {
    const created = (await h.api('POST', testRunsPath, { ...testRun('gen'), status: { phase: 'Ignored' } })).body;
    expect(created.metadata.generation).toBe(1);
    expect(created.status).toBeUndefined();
    const labelled = await h.api('PATCH', `${testRunsPath}/gen`, { metadata: { labels: { a: 'b' } }, status: { phase: 'Sneaky' } }, 'application/merge-patch+json');
    expect(labelled.body.metadata.generation).toBe(1);
    expect(labelled.body.status).toBeUndefined();
    const status = await h.api('PUT', `${testRunsPath}/gen/status`, { ...labelled.body, spec: { appName: 'changed' }, status: { phase: 'Running', observedGeneration: 1 } });
    expect(status.status).toBe(200);
    expect(status.body.metadata.generation).toBe(1);
    expect(status.body.spec.appName).toBe('shop');
    expect(status.body.status).toEqual({ phase: 'Running', observedGeneration: 1 });
    const spec = await h.api('PATCH', `${testRunsPath}/gen`, { spec: { script: 'x' } }, 'application/merge-patch+json');
    expect(spec.body.metadata.generation).toBe(2);
    expect(spec.body.status.phase).toBe('Running');
  });

  it('keeps an object with finalizers until the last one is removed', async () => {
    await h.api('POST', testRunsPath, { ...testRun('final'), metadata: { name: 'final', finalizers: ['topas.dev/cleanup', 'other/x'] } });
    const marked = await h.api('DELETE', `${testRunsPath}/final`);
    expect(marked.status).toBe(200);
    expect(marked.body.metadata.deletionTimestamp).toBeTruthy();
    expect((await h.api('GET', `${testRunsPath}/final`)).status).toBe(200);
    const adding = await h.api('PATCH', `${testRunsPath}/final`, [{ op: 'add', path: '/metadata/finalizers/-', value: 'new/one' }], 'application/json-patch+json');
    expect(adding.status).toBe(422);
    expect(adding.body.message).toContain('no new finalizers can be added if the object is being deleted');
    await h.api('PATCH', `${testRunsPath}/final`, [{ op: 'remove', path: '/metadata/finalizers/0' }], 'application/json-patch+json');
    expect((await h.api('GET', `${testRunsPath}/final`)).body.metadata.finalizers).toEqual(['other/x']);
    await h.api('PATCH', `${testRunsPath}/final`, [{ op: 'remove', path: '/metadata/finalizers/0' }], 'application/json-patch+json');
    expect((await h.api('GET', `${testRunsPath}/final`)).status).toBe(404);
  });

  it('garbage-collects dependents of a deleted owner (background), and orphans them on request', async () => {
    const owner = (await h.api('POST', testRunsPath, testRun('owner'))).body;
    const ref = { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'owner', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
    for (const name of ['owned-1', 'owned-2']) {
      expect((await h.api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name, ownerReferences: [ref] }, data: { a: '1' } })).status).toBe(201);
    }
    await h.api('DELETE', `${testRunsPath}/owner`);
    await vi.waitFor(async () => expect((await h.api('GET', '/api/v1/namespaces/default/configmaps/owned-1')).status).toBe(404));
    expect((await h.api('GET', '/api/v1/namespaces/default/configmaps/owned-2')).status).toBe(404);

    const keeper = (await h.api('POST', testRunsPath, testRun('keeper'))).body;
    await h.api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'orphan', ownerReferences: [{ ...ref, name: 'keeper', uid: keeper.metadata.uid }] } });
    await h.api('DELETE', `${testRunsPath}/keeper?propagationPolicy=Orphan`);
    const orphan = await h.api('GET', '/api/v1/namespaces/default/configmaps/orphan');
    expect(orphan.status).toBe(200);
    expect(orphan.body.metadata.ownerReferences).toBeUndefined();
  });

  it('deletes in the foreground: the owner goes after its dependents', async () => {
    const owner = (await h.api('POST', testRunsPath, testRun('fg'))).body;
    await h.api('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'fg-dep', finalizers: ['hold/on'], ownerReferences: [{ apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'fg', uid: owner.metadata.uid }] },
    });
    await h.api('DELETE', `${testRunsPath}/fg`, { propagationPolicy: 'Foreground' });
    await vi.waitFor(async () => expect((await h.api('GET', '/api/v1/namespaces/default/configmaps/fg-dep')).body.metadata.deletionTimestamp).toBeTruthy());
    expect((await h.api('GET', `${testRunsPath}/fg`)).body.metadata.finalizers).toEqual(['foregroundDeletion']);
    await h.api('PATCH', '/api/v1/namespaces/default/configmaps/fg-dep', { metadata: { finalizers: null } }, 'application/merge-patch+json');
    await vi.waitFor(async () => expect((await h.api('GET', `${testRunsPath}/fg`)).status).toBe(404));
  });

  it('filters lists by label and field selectors', async () => {
    await h.api('POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    const pod = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
    await h.api('POST', '/api/v1/namespaces/sel/pods', pod('a', { app: 'x', tier: 'web' }));
    await h.api('POST', '/api/v1/namespaces/sel/pods', pod('b', { app: 'y', tier: 'db' }));
    await h.api('POST', '/api/v1/namespaces/sel/pods', pod('c', { app: 'z' }));
    await h.api('PATCH', '/api/v1/namespaces/sel/pods/b/status', { status: { phase: 'Running' } }, 'application/merge-patch+json');
    const names = async (query: string) => {
      const res = await h.api('GET', `/api/v1/namespaces/sel/pods?${query}`);
      expect(res.status).toBe(200);
      return res.body.items.map((p: JsonObject) => p.metadata.name);
    };
    expect(await names(`labelSelector=${encodeURIComponent('app=x')}`)).toEqual(['a']);
    expect(await names(`labelSelector=${encodeURIComponent('app==x')}`)).toEqual(['a']);
    expect(await names(`labelSelector=${encodeURIComponent('app!=x')}`)).toEqual(['b', 'c']);
    expect(await names(`labelSelector=${encodeURIComponent('app in (x, y)')}`)).toEqual(['a', 'b']);
    expect(await names(`labelSelector=${encodeURIComponent('app notin (x)')}`)).toEqual(['b', 'c']);
    expect(await names(`labelSelector=${encodeURIComponent('tier')}`)).toEqual(['a', 'b']);
    expect(await names(`labelSelector=${encodeURIComponent('!tier')}`)).toEqual(['c']);
    expect(await names(`labelSelector=${encodeURIComponent('tier,app!=y')}`)).toEqual(['a']);
    expect(await names(`fieldSelector=${encodeURIComponent('metadata.name=c')}`)).toEqual(['c']);
    expect(await names(`fieldSelector=${encodeURIComponent('status.phase=Running')}`)).toEqual(['b']);
    expect(await names(`fieldSelector=${encodeURIComponent('status.phase!=Running,metadata.name!=a')}`)).toEqual(['c']);
    const all = await h.api('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent('metadata.namespace=sel')}`);
    expect(all.body.items).toHaveLength(3);
    const bad = await h.api('GET', `/api/v1/namespaces/sel/pods?fieldSelector=spec.bogus%3Dx`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.bogus');
    const page = await h.api('GET', '/api/v1/namespaces/sel/pods?limit=2');
    expect(page.body.items.map((p: JsonObject) => p.metadata.name)).toEqual(['a', 'b']);
    const rest = await h.api('GET', `/api/v1/namespaces/sel/pods?limit=2&continue=${page.body.metadata.continue}`);
    expect(rest.body.items.map((p: JsonObject) => p.metadata.name)).toEqual(['c']);
    expect(rest.body.metadata.continue).toBeUndefined();
  });

  it('watches: initial state, live changes, selector transitions, resume from a resourceVersion, bookmarks', async () => {
    await h.api('POST', testRunsPath, testRun('w-1', {}, { watch: 'yes' }));
    const w = await watch(`labelSelector=watch%3Dyes&allowWatchBookmarks=true`);
    await vi.waitFor(() => expect(summary(w.events)).toEqual(['ADDED w-1']));
    const created = (await h.api('POST', testRunsPath, testRun('w-2', {}, { watch: 'yes' }))).body;
    await h.api('PATCH', `${testRunsPath}/w-1/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json');
    await h.api('PATCH', `${testRunsPath}/w-2`, { metadata: { labels: { watch: 'no' } } }, 'application/merge-patch+json');
    await h.api('DELETE', `${testRunsPath}/w-1`);
    await vi.waitFor(() => expect(summary(w.events)).toEqual(['ADDED w-1', 'ADDED w-2', 'MODIFIED w-1', 'DELETED w-2', 'DELETED w-1']));
    await vi.waitFor(() => expect(w.events.some((e) => e.type === 'BOOKMARK' && Number(e.object.metadata.resourceVersion) > 0)).toBe(true));
    w.stop();

    const resumed = await watch(`resourceVersion=${created.metadata.resourceVersion}`);
    await vi.waitFor(() => expect(summary(resumed.events)).toEqual(['MODIFIED w-1', 'MODIFIED w-2', 'DELETED w-1']));
    resumed.stop();
  });

  it('answers a watch from a resourceVersion older than its window with 410 Expired', async () => {
    const old = (await h.api('POST', testRunsPath, testRun('expired'))).body.metadata.resourceVersion;
    for (let i = 0; i <= watchWindow; i++) await h.api('PATCH', `${testRunsPath}/expired`, { spec: { script: String(i) } }, 'application/merge-patch+json');
    const w = await watch(`resourceVersion=${old}`);
    await vi.waitFor(() => expect(w.ended()).toBe(true));
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(w.events[0].object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('ends a watch after timeoutSeconds', async () => {
    const w = await watch('timeoutSeconds=1&resourceVersion=0');
    await vi.waitFor(() => expect(w.ended()).toBe(true), { timeout: 5000 });
  });

  it('validates custom resources against the CRD schema with the real server’s wording', async () => {
    const res = await h.api('POST', testRunsPath, testRun('invalid', { timeout: 30, mode: 'slow', retries: 9, port: true }));
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('Invalid');
    expect(res.body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.timeout', message: 'Invalid value: "integer": spec.timeout in body must be of type string: "integer"' },
      { reason: 'FieldValueNotSupported', field: 'spec.mode', message: 'Unsupported value: "slow": supported values: "fast", "full"' },
      { reason: 'FieldValueInvalid', field: 'spec.retries', message: 'Invalid value: 9: spec.retries in body should be less than or equal to 5' },
      { reason: 'FieldValueInvalid', field: 'spec.port', message: 'Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"' },
    ]);
    expect(res.body.message).toMatch(/^TestRun\.topas\.dev "invalid" is invalid: \[spec\.timeout: Invalid value: "integer"/);
    const pattern = await h.api('POST', testRunsPath, testRun('invalid', { timeout: '5 minutes' }));
    expect(pattern.body.message).toBe(`TestRun.topas.dev "invalid" is invalid: spec.timeout: Invalid value: "5 minutes": spec.timeout in body should match '^[0-9]+(s|m|h)$'`);
    const missing = await h.api('POST', testRunsPath, { ...testRun('invalid'), spec: { script: 'x' } });
    expect(missing.body.message).toBe('TestRun.topas.dev "invalid" is invalid: spec.appName: Required value');
    for (const port of [8080, 'http']) expect((await h.api('POST', testRunsPath, testRun(`port-${port}`, { port }))).status).toBe(201);
  });

  it('prunes unknown fields (warning by default, 400 under fieldValidation=Strict) and keeps preserved ones', async () => {
    const res = await h.api('POST', testRunsPath, testRun('pruned', { bogus: 1, env: { A: '1' }, extra: { any: { thing: [1] } } }));
    expect(res.status).toBe(201);
    expect(res.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
    expect(res.body.spec).toEqual({ appName: 'shop', env: { A: '1' }, extra: { any: { thing: [1] } }, retries: 1 });
    const strict = await h.api('POST', `${testRunsPath}?fieldValidation=Strict`, testRun('strict', { bogus: 1 }));
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('TestRun in version "v1alpha1" cannot be handled as a TestRun: strict decoding error: unknown field "spec.bogus"');
  });

  it('names objects from generateName and serves the default ServiceAccount of a new namespace', async () => {
    const res = await h.api('POST', testRunsPath, { ...testRun(''), metadata: { generateName: 'gen-' } });
    expect(res.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    await h.api('POST', '/api/v1/namespaces', { metadata: { name: 'fresh' } });
    expect((await h.api('GET', '/api/v1/namespaces/fresh/serviceaccounts/default')).status).toBe(200);
    expect((await h.api('POST', '/api/v1/namespaces/missing/configmaps', { metadata: { name: 'x' } })).body.message).toBe('namespaces "missing" not found');
  });

  it('applies strategic merge patches to built-in kinds and refuses them for custom resources', async () => {
    await h.api('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'smp' },
      spec: { containers: [{ name: 'a', image: 'busybox:1', env: [{ name: 'X', value: '1' }] }, { name: 'b', image: 'busybox:1' }] },
    });
    const res = await h.api('PATCH', '/api/v1/namespaces/default/pods/smp', { spec: { containers: [{ name: 'b', image: 'busybox:2' }] } }, 'application/strategic-merge-patch+json');
    expect(res.body.spec.containers.map((c: JsonObject) => `${c.name}=${c.image}`)).toEqual(['a=busybox:1', 'b=busybox:2']);
    expect(res.body.spec.containers[0].env).toEqual([{ name: 'X', value: '1' }]);
    const cr = await h.api('PATCH', `${testRunsPath}/gen`, { spec: {} }, 'application/strategic-merge-patch+json');
    expect(cr.status).toBe(415);
  });

  it('refuses pod spec changes other than images, as the real server does', async () => {
    const res = await h.api('PATCH', '/api/v1/namespaces/default/pods/smp', { spec: { restartPolicy: 'Never' } }, 'application/merge-patch+json');
    expect(res.status).toBe(422);
    expect(res.body.message).toMatch(/^Pod "smp" is invalid: spec: Forbidden: pod updates may not change fields other than/);
    expect(res.body.details.causes[0].field).toBe('spec');
  });
});

describe('built-in kinds', () => {
  it('are checked against the official schemas: a wrong type or a missing required field is a 422 naming it', async () => {
    const res = await h.api('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'typed' },
      spec: { containers: [{ name: 'main', image: 'busybox', ports: [{ containerPort: 'http' }], env: [{ value: 'x' }] }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.details.causes.map((c: JsonObject) => c.field)).toEqual(['spec.containers[0].env[0].name', 'spec.containers[0].ports[0].containerPort']);
    const lease = await h.api('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', { metadata: { name: 'l' }, spec: { leaseDurationSeconds: '15' } });
    expect(lease.status).toBe(422);
    expect(lease.body.message).toContain('spec.leaseDurationSeconds: Invalid value: "15": must be integer');
  });

  it('deletes what a namespace holds with it', async () => {
    await h.api('POST', '/api/v1/namespaces', { metadata: { name: 'short-lived' } });
    await h.api('POST', '/api/v1/namespaces/short-lived/configmaps', { metadata: { name: 'c', finalizers: ['hold/on'] } });
    const deleting = await h.api('DELETE', '/api/v1/namespaces/short-lived');
    expect(deleting.body.status.phase).toBe('Terminating');
    expect((await h.api('POST', '/api/v1/namespaces/short-lived/configmaps', { metadata: { name: 'd' } })).status).toBe(403);
    await h.api('PATCH', '/api/v1/namespaces/short-lived/configmaps/c', { metadata: { finalizers: null } }, 'application/merge-patch+json');
    await vi.waitFor(async () => expect((await h.api('GET', '/api/v1/namespaces/short-lived')).status).toBe(404));
  });
});

describe('events', () => {
  it('are one resource under core/v1 and events.k8s.io/v1', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, '.000000Z');
    const created = await h.api('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      metadata: { name: 'ev-1' },
      regarding: { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'gen', namespace: 'default' },
      reason: 'PodCreated',
      note: 'created runner pod',
      type: 'Normal',
      action: 'Create',
      eventTime: now,
      reportingController: 'topas.dev/controller',
      reportingInstance: 'topas-1',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'created runner pod', regarding: { name: 'gen' } });
    const core = await h.api('GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('involvedObject.name=gen,involvedObject.kind=TestRun')}`);
    expect(core.body.items.map((e: JsonObject) => [e.apiVersion, e.message, e.reportingComponent])).toEqual([['v1', 'created runner pod', 'topas.dev/controller']]);
    const v1 = await h.api('GET', `/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('regarding.name=gen')}`);
    expect(v1.body.items.map((e: JsonObject) => e.note)).toEqual(['created runner pod']);
  });
});

describe('CustomResourceDefinitions', () => {
  it('must have structural schemas, as apiextensions.k8s.io/v1 requires', async () => {
    const crd = testRunCrd();
    crd.metadata.name = 'gadgets.example.dev';
    crd.spec.group = 'example.dev';
    crd.spec.names = { plural: 'gadgets', kind: 'Gadget' };
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    spec.additionalProperties = false;
    spec.properties.untyped = { description: 'no type' };
    spec.properties.kind = { type: 'string', const: 'x' };
    spec.properties.source = { type: 'object', oneOf: [{ type: 'object', required: ['a'] }] };
    const res = await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(res.status).toBe(422);
    const base = 'spec.versions[0].schema.openAPIV3Schema.properties[spec]';
    expect(res.body.details.causes.map((c: JsonObject) => `${c.field}: ${c.message}`)).toEqual([
      `${base}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
      `${base}.additionalProperties: Forbidden: additionalProperties cannot be set to false`,
      `${base}.properties[untyped].type: Required value: must not be empty for specified object fields`,
      `${base}.properties[source].oneOf[0].type: Forbidden: must be empty to be structural`,
    ]);
    const valid = testRunCrd();
    valid.metadata.name = 'gadgets.example.dev';
    valid.spec.group = 'example.dev';
    valid.spec.names = { plural: 'gadgets', kind: 'Gadget' };
    valid.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.kind = { type: 'string', const: 'x' };
    const pruned = await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', valid);
    expect(pruned.status).toBe(201);
    expect(pruned.headers.get('warning')).toBe(`299 - "unknown field \\"${base}.properties[kind].const\\""`);
    expect(pruned.body.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.kind).toEqual({ type: 'string' });
  });
});

describe('owner references', () => {
  it('across namespaces point at nothing, so the dependent is collected (as on a real cluster)', async () => {
    await h.api('POST', '/api/v1/namespaces', { metadata: { name: 'elsewhere' } });
    const owner = (await h.api('POST', testRunsPath, testRun('far-owner'))).body;
    const ref = { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'far-owner', uid: owner.metadata.uid };
    expect((await h.api('POST', '/api/v1/namespaces/elsewhere/configmaps', { metadata: { name: 'far', ownerReferences: [ref] } })).status).toBe(201);
    expect((await h.api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'near', ownerReferences: [ref] } })).status).toBe(201);
    await vi.waitFor(async () => expect((await h.api('GET', '/api/v1/namespaces/elsewhere/configmaps/far')).status).toBe(404));
    expect((await h.api('GET', '/api/v1/namespaces/default/configmaps/near')).status).toBe(200);
    const bad = await h.api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'bad-ref', ownerReferences: [{ ...ref, uid: '' }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('metadata.ownerReferences[0].uid');
  });
});
