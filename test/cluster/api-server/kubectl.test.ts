/**
 * The real kubectl (/usr/bin/kubectl, v1.32) against the API test server: what a
 * user types — apply, get (printer columns, yaml, json, jsonpath, -w), describe,
 * delete, logs.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { startApiHarness, testRun, testRunCrd, testRunsPath, type ApiHarness } from './testing.js';

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness();
  const crd = await h.kubectl(['apply', '-f', '-'], stringify(testRunCrd()));
  expect(crd.stderr).toBe('');
  expect(crd.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/testruns.topas.dev created');
});
afterAll(() => h?.stop());

describe('kubectl against the API test server', () => {
  it('applies a custom resource, then applies the changed file as an update', async () => {
    const first = await h.kubectl(['apply', '-f', '-'], stringify(testRun('apply-me', { timeout: '90s' })));
    expect(first.stdout.trim()).toBe('testrun.topas.dev/apply-me created');
    const second = await h.kubectl(['apply', '-f', '-'], stringify(testRun('apply-me', { timeout: '10m' })));
    expect(second.stdout.trim()).toBe('testrun.topas.dev/apply-me configured');
    const same = await h.kubectl(['apply', '-f', '-'], stringify(testRun('apply-me', { timeout: '10m' })));
    expect(same.stdout.trim()).toBe('testrun.topas.dev/apply-me unchanged');
    const got = await h.kubectl(['get', 'testrun', 'apply-me', '-o', 'jsonpath={.spec.timeout} {.metadata.generation} {.spec.retries}']);
    expect(got.stdout).toBe('10m 2 1');
  });

  it('rejects an invalid custom resource with the field named, and an unknown field under --validate=strict', async () => {
    const bad = await h.kubectl(['apply', '-f', '-'], stringify(testRun('bad', { timeout: 90 })));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The TestRun "bad" is invalid: spec.timeout: Invalid value: "integer": spec.timeout in body must be of type string: "integer"');
    const unknown = await h.kubectl(['apply', '-f', '-'], stringify(testRun('bad', { bogus: true })));
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
  });

  it('applies built-in kinds and updates them with a strategic merge patch', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } };
    expect((await h.kubectl(['apply', '-f', '-'], stringify(cm))).stdout.trim()).toBe('configmap/settings created');
    expect((await h.kubectl(['apply', '-f', '-'], stringify({ ...cm, data: { b: '2' } }))).stdout.trim()).toBe('configmap/settings configured');
    expect(JSON.parse((await h.kubectl(['get', 'cm', 'settings', '-o', 'json'])).stdout).data).toEqual({ b: '2' });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { containers: [{ name: 'main', image: 'busybox:1.36', env: [{ name: 'A', value: '1' }] }, { name: 'side', image: 'busybox:1.36' }] },
    };
    await h.kubectl(['apply', '-f', '-'], stringify(pod));
    pod.spec.containers[1].image = 'busybox:1.37';
    const updated = await h.kubectl(['apply', '-f', '-'], stringify(pod));
    expect(updated.stdout.trim()).toBe('pod/web configured');
    const images = await h.kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[*].image} {.spec.containers[0].env[0].value}']);
    expect(images.stdout).toBe('busybox:1.36 busybox:1.37 1');
  });

  it('lists custom resources with the CRD printer columns, and by short name and category', async () => {
    await h.kubectl(['apply', '-f', '-'], stringify(testRun('listed', { timeout: '1m' })));
    const status = await h.api('PATCH', `${testRunsPath}/listed/status`, { status: { phase: 'Passed', summary: { passed: 3 }, conditions: [{ type: 'Ready', status: 'True' }] } }, 'application/merge-patch+json');
    expect(status.status).toBe(200);
    const table = await h.kubectl(['get', 'tr', 'listed']);
    expect(table.stdout.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'PHASE', 'APP', 'PASSED', 'AGE']);
    expect(table.stdout.split('\n')[1]).toMatch(/^listed\s+Passed\s+shop\s+3\s+\d+s$/);
    const wide = await h.kubectl(['get', 'testruns', 'listed', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/READY/);
    expect((await h.kubectl(['get', 'topas'])).stdout).toContain('listed');
  });

  it('prints -o yaml, -o json and -o jsonpath', async () => {
    await h.kubectl(['apply', '-f', '-'], stringify(testRun('printed', { mode: 'fast' })));
    expect((await h.kubectl(['get', 'tr', 'printed', '-o', 'yaml'])).stdout).toMatch(/kind: TestRun[\s\S]*mode: fast/);
    const json = JSON.parse((await h.kubectl(['get', 'tr', 'printed', '-o', 'json'])).stdout);
    expect(json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.spec).toEqual({ appName: 'shop', mode: 'fast', retries: 1 });
    expect((await h.kubectl(['get', 'tr', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ')).toContain('printed');
  });

  it('watches with get -w and sees a change made afterwards', async () => {
    await h.kubectl(['apply', '-f', '-'], stringify(testRun('watched')));
    const child = spawn('/usr/bin/kubectl', ['get', 'tr', 'watched', '-w', `--cache-dir=${path.dirname(h.cluster.kubeconfigPath)}/kube-cache`], {
      env: { ...process.env, KUBECONFIG: h.cluster.kubeconfigPath },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await vi.waitFor(() => expect(out).toMatch(/^watched\s+shop/m), { timeout: 10_000 });
      await h.api('PATCH', `${testRunsPath}/watched/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json');
      await vi.waitFor(() => expect(out).toMatch(/^watched\s+Running\s+shop/m), { timeout: 10_000 });
    } finally {
      child.kill();
    }
  });

  it('describes a custom resource and a Pod, with their events', async () => {
    await h.kubectl(['apply', '-f', '-'], stringify(testRun('described', { script: 'print(1)' })));
    const tr = (await h.api('GET', `${testRunsPath}/described`)).body;
    await h.api('POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'described.1' },
      involvedObject: { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'described', namespace: 'default', uid: tr.metadata.uid },
      reason: 'RunQueued',
      message: 'run queued behind 0 others',
      type: 'Normal',
      source: { component: 'topas' },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    });
    const out = (await h.kubectl(['describe', 'testrun', 'described'])).stdout;
    expect(out).toMatch(/Name:\s+described/);
    expect(out).toMatch(/Script:\s+print\(1\)/);
    expect(out).toMatch(/Normal\s+RunQueued\s+\S+\s+topas\s+run queued behind 0 others/);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'described-pod' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo hi'] }] } };
    await h.kubectl(['apply', '-f', '-'], stringify(pod));
    const podOut = (await h.kubectl(['describe', 'pod', 'described-pod'])).stdout;
    expect(podOut).toMatch(/Status:\s+Pending/);
    expect(podOut).toMatch(/Image:\s+busybox:1.36/);
  });

  it('deletes, waiting until a finalizer is removed', async () => {
    await h.kubectl(['apply', '-f', '-'], stringify({ ...testRun('doomed'), metadata: { name: 'doomed', finalizers: ['topas.dev/cleanup'] } }));
    const deleting = h.kubectl(['delete', 'tr', 'doomed', '--timeout=15s']);
    await vi.waitFor(async () => expect((await h.api('GET', `${testRunsPath}/doomed`)).body.metadata.deletionTimestamp).toBeTruthy());
    await h.api('PATCH', `${testRunsPath}/doomed`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    const done = await deleting;
    expect(done.stdout.trim()).toBe('testrun.topas.dev "doomed" deleted');
    expect((await h.kubectl(['get', 'tr', 'doomed'])).stderr).toContain('Error from server (NotFound): testruns.topas.dev "doomed" not found');
  });

  it('prints and follows a container log from the file the kubelet writes', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'logger' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } };
    await h.kubectl(['apply', '-f', '-'], stringify(pod));
    const waiting = await h.kubectl(['logs', 'logger']);
    expect(waiting.stderr).toContain('container "main" in pod "logger" is waiting to start: ContainerCreating');
    const file = path.join(h.cluster.logDir, 'default', 'logger', 'main.log');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, 'one\ntwo\nthree\n');
    expect((await h.kubectl(['logs', 'logger'])).stdout).toBe('one\ntwo\nthree\n');
    expect((await h.kubectl(['logs', 'logger', '--tail=1'])).stdout).toBe('three\n');

    await h.api('PATCH', '/api/v1/namespaces/default/pods/logger/status', { status: { phase: 'Running', containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'busybox:1.36', imageID: '', state: { running: { startedAt: new Date().toISOString() } } }] } }, 'application/merge-patch+json');
    const child = spawn('/usr/bin/kubectl', ['logs', '-f', 'logger', `--cache-dir=${path.dirname(h.cluster.kubeconfigPath)}/kube-cache`], { env: { ...process.env, KUBECONFIG: h.cluster.kubeconfigPath } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await vi.waitFor(() => expect(out).toBe('one\ntwo\nthree\n'), { timeout: 10_000 });
    const table = (await h.kubectl(['get', 'pod', 'logger'])).stdout.split('\n');
    expect(table[0].split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(table[1]).toMatch(/^logger\s+1\/1\s+Running\s+0\s+\d+s$/);
    await appendFile(file, 'four\n');
    await vi.waitFor(() => expect(out).toBe('one\ntwo\nthree\nfour\n'), { timeout: 10_000 });
    await h.api('PATCH', '/api/v1/namespaces/default/pods/logger/status', { status: { phase: 'Succeeded', containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'busybox:1.36', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } }, 'application/merge-patch+json');
    expect(await exited).toBe(0);
  });
});

describe('kubectl create (protobuf bodies)', () => {
  it('creates Secrets, ConfigMaps, Namespaces, ServiceAccounts and Services', async () => {
    const run = async (...args: string[]) => {
      const r = await h.kubectl(args);
      expect(r.stderr).toBe('');
      return r.stdout.trim();
    };
    expect(await run('create', 'secret', 'generic', 'git-creds', '--type=kubernetes.io/basic-auth', '--from-literal=username=me', '--from-literal=password=pw')).toBe('secret/git-creds created');
    expect(await run('get', 'secret', 'git-creds', '-o', 'jsonpath={.type} {.data.username} {.data.password}')).toBe('kubernetes.io/basic-auth bWU= cHc=');
    expect(await run('create', 'configmap', 'files', '--from-literal=a.lua=print(1)')).toBe('configmap/files created');
    expect(await run('get', 'cm', 'files', '-o', 'jsonpath={.data.a\\.lua}')).toBe('print(1)');
    expect(await run('create', 'namespace', 'team-a')).toBe('namespace/team-a created');
    expect(await run('create', 'serviceaccount', 'runner', '-n', 'team-a')).toBe('serviceaccount/runner created');
    expect(await run('create', 'service', 'clusterip', 'web', '--tcp=80:8080')).toBe('service/web created');
    expect(await run('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort} {.spec.clusterIP}')).toMatch(/^8080 127\.2\.\d+\.\d+$/);
  });
});

describe('kubectl diff (server-side dry run)', () => {
  it('shows what an apply would change without changing it', async () => {
    await h.kubectl(['apply', '-f', '-'], stringify(testRun('diffed', { timeout: '1m' })));
    const before = (await h.api('GET', `${testRunsPath}/diffed`)).body.metadata.resourceVersion;
    const diff = await h.kubectl(['diff', '-f', '-'], stringify(testRun('diffed', { timeout: '2m' })));
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/-\s+timeout: 1m\n\+\s+timeout: 2m/);
    const after = (await h.api('GET', `${testRunsPath}/diffed`)).body;
    expect(after.spec.timeout).toBe('1m');
    expect(after.metadata.resourceVersion).toBe(before);
  });
});
