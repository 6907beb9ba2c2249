/**
 * The simulated kubelet inside the test cluster, driven as a user would: the real
 * `kubectl` (/usr/bin/kubectl) against `startTestCluster()`.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupMembers } from '../../../src/apps/local/process-group.js';
import { podProcesses } from './pod-processes.js';
import { startTestCluster, type TestCluster } from '../start-test-cluster.js';

const run = promisify(execFile);
let cluster: TestCluster;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
  return stdout;
}

async function apply(name: string, yaml: string): Promise<void> {
  const file = join(cluster.logDir, '..', `${name}.yaml`);
  writeFileSync(file, yaml);
  await kubectl('apply', '-f', file);
}

/** The STATUS column of `kubectl get pod` (what a user reads). */
async function statusColumn(pod: string): Promise<string> {
  const out = await kubectl('get', 'pod', pod, '--no-headers');
  return out.trim().split(/\s+/)[2] ?? '';
}

const waitOpts = { timeout: 15_000, interval: 100 };

beforeAll(async () => {
  cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
  expect(podProcesses(/^(hello|shaped|streamer|nope|deadline|sleeper)$/)).toEqual([]);
});

describe('simulated kubelet in the test cluster (real kubectl)', () => {
  it('runs a busybox Pod that reads its mounted ConfigMap and a Secret env: Completed, with its logs and termination message', async () => {
    await apply(
      'hello',
      `
apiVersion: v1
kind: ConfigMap
metadata: {name: hello-source}
data:
  hello.lua: 'print("hello")'
---
apiVersion: v1
kind: Secret
metadata: {name: hello-token}
stringData: {token: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c]
    args: ['echo "running in $(POD)"; cat /topas/source/hello.lua; echo; echo "token=$TOKEN"; printf done > /topas/termination-log']
    env:
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: hello-token, key: token}}}
    terminationMessagePath: /topas/termination-log
    terminationMessagePolicy: FallbackToLogsOnError
    volumeMounts:
    - {name: source, mountPath: /topas/source, readOnly: true}
  volumes:
  - name: source
    configMap: {name: hello-source, items: [{key: hello.lua, path: hello.lua}]}
`,
    );
    await vi.waitFor(async () => expect(await statusColumn('hello')).toBe('Completed'), waitOpts);
    expect(await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase} {.spec.nodeName} {.status.hostIP}')).toBe('Succeeded topas-test-node 127.0.0.1');
    expect(await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.podIP}')).toMatch(/^127\.1\.\d+\.\d+$/);
    expect(await kubectl('logs', 'hello')).toBe('running in hello\nprint("hello")\ntoken=s3cret\n');
    expect(await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.message}')).toBe('done');
  });

  it('runs a Pod shaped like a runner Pod: non-root with fsGroup, 0440 token, items paths, an init container filling a shared emptyDir', async () => {
    await apply(
      'runner-shaped',
      `
apiVersion: v1
kind: ConfigMap
metadata: {name: shaped-source}
data:
  main.lua: 'require("lib.util")'
  lib--util.lua: 'return {}'
---
apiVersion: v1
kind: Secret
metadata: {name: shaped-token}
stringData: {token: per-run-token}
---
apiVersion: v1
kind: Pod
metadata: {name: shaped}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000}
  initContainers:
  - name: git-checkout
    image: busybox
    command: [sh, -c, 'echo "checked out as $(id -u)" > /topas/workspace/revision']
    volumeMounts:
    - {name: workspace, mountPath: /topas/workspace}
  containers:
  - name: runner
    image: busybox
    command: [sh, -c, 'cat /topas/token/token; echo; ls /topas/source; ls /topas/source/lib; cat /topas/workspace/revision; touch "$HOME/cache" && echo "home $HOME writable"']
    env: [{name: HOME, value: /topas/tmp}]
    terminationMessagePath: /topas/termination-log
    terminationMessagePolicy: FallbackToLogsOnError
    volumeMounts:
    - {name: token, mountPath: /topas/token, readOnly: true}
    - {name: source, mountPath: /topas/source, readOnly: true}
    - {name: workspace, mountPath: /topas/workspace, readOnly: true}
    - {name: tmp, mountPath: /topas/tmp}
  volumes:
  - {name: token, secret: {secretName: shaped-token, defaultMode: 0440, items: [{key: token, path: token}]}}
  - {name: source, configMap: {name: shaped-source, defaultMode: 0444, items: [{key: main.lua, path: main.lua}, {key: lib--util.lua, path: lib/util.lua}]}}
  - {name: workspace, emptyDir: {}}
  - {name: tmp, emptyDir: {}}
`,
    );
    await vi.waitFor(async () => expect(await statusColumn('shaped')).toBe('Completed'), waitOpts);
    expect(await kubectl('logs', 'shaped', '-c', 'runner')).toBe('per-run-token\nlib\nmain.lua\nutil.lua\nchecked out as 1000\nhome /topas/tmp writable\n');
  });

  it('streams a running container\'s output to kubectl logs -f as it is written', async () => {
    await apply(
      'streamer',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: streamer}\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  containers:\n  - {name: main, image: busybox, command: [sh, -c, \'echo first line; trap "echo stopping; exit 0" TERM; while true; do sleep 0.1; done\']}\n',
    );
    await vi.waitFor(async () => expect(await statusColumn('streamer')).toBe('Running'), waitOpts);
    const follow = spawn('kubectl', ['logs', '-f', 'streamer'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
    let out = '';
    follow.stdout.on('data', (chunk) => (out += chunk));
    const ended = new Promise((resolve) => follow.once('exit', resolve));
    await vi.waitFor(() => expect(out).toBe('first line\n'), waitOpts);
    await kubectl('delete', 'pod', 'streamer');
    await ended;
    expect(out).toBe('first line\nstopping\n');
  });

  it('shows an image it cannot pull as ErrImagePull / ImagePullBackOff; the Pod stays Pending', async () => {
    await apply('nope', 'apiVersion: v1\nkind: Pod\nmetadata: {name: nope}\nspec:\n  restartPolicy: Never\n  containers:\n  - {name: main, image: registry.example/nope:1.0}\n');
    await vi.waitFor(async () => expect(await statusColumn('nope')).toMatch(/^(ErrImagePull|ImagePullBackOff)$/), waitOpts);
    expect(await kubectl('get', 'pod', 'nope', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.message}')).toMatch(/^Pending .*registry\.example\/nope:1\.0/);
    // kubectl describe lists the kubelet's Events, as on a real node.
    await vi.waitFor(async () => expect(await kubectl('describe', 'pod', 'nope')).toMatch(/Warning\s+Failed\s+.*kubelet\s+Failed to pull image "registry\.example\/nope:1\.0"/), waitOpts);
    expect(await kubectl('describe', 'pod', 'hello')).toMatch(/Normal\s+Started\s+.*kubelet\s+Started container main/);
  });

  it('ends a Pod past activeDeadlineSeconds with DeadlineExceeded', async () => {
    await apply(
      'deadline',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: deadline}\nspec:\n  restartPolicy: Never\n  activeDeadlineSeconds: 1\n  containers:\n  - {name: main, image: busybox, command: [sleep, "60"]}\n',
    );
    await vi.waitFor(async () => expect(await kubectl('get', 'pod', 'deadline', '-o', 'jsonpath={.status.phase} {.status.reason}')).toBe('Failed DeadlineExceeded'), waitOpts);
  });

  it('stops the process of a deleted Pod (kubectl delete waits for it)', async () => {
    await apply(
      'sleeper',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: sleeper}\nspec:\n  restartPolicy: Never\n  containers:\n  - {name: main, image: busybox, command: [sleep, "60"]}\n',
    );
    const pid = await vi.waitFor(() => {
      const p = cluster.kubelet!.containerPids('default', 'sleeper').main;
      expect(p).toBeGreaterThan(0);
      return p!;
    }, waitOpts);
    await vi.waitFor(async () => expect(await statusColumn('sleeper')).toBe('Running'), waitOpts);
    await kubectl('delete', 'pod', 'sleeper');
    expect(groupMembers(pid)).toEqual([]);
    await expect(kubectl('get', 'pod', 'sleeper')).rejects.toThrow(/NotFound/);
  });
});
