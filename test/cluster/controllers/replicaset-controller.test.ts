/**
 * A bare ReplicaSet in the test cluster, driven with the real `kubectl`: Pods
 * created from its template, replaced when they fail, the not-ready ones
 * deleted first when scaled down, and the status counts (with minReadySeconds).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { JsonObject } from '../api-server/errors.js';
import { podProcesses } from '../kubelet/pod-processes.js';
import { startTestCluster, type TestCluster } from '../start-test-cluster.js';

let cluster: TestCluster;
let flags: string;

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function pods(): Promise<JsonObject[]> {
  return (JSON.parse(await ok('get', 'pods', '-l', 'app=frontend', '-o', 'json')).items as JsonObject[]).filter((p) => !p.metadata.deletionTimestamp);
}

async function rs(): Promise<JsonObject> {
  return JSON.parse(await ok('get', 'rs', 'frontend', '-o', 'json'));
}

const wait = { timeout: 20_000, interval: 100 };

beforeAll(async () => {
  flags = mkdtempSync(join(tmpdir(), 'topas-rs-flags-'));
  cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(flags, { recursive: true, force: true });
  expect(podProcesses(/^(frontend|probed)-/)).toEqual([]);
});

describe('ReplicaSets in the test cluster (real kubectl)', () => {
  it('keeps its Pods at spec.replicas, replaces a Failed one, and deletes the not-ready ones first', async () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'frontend' },
      spec: {
        replicas: 3,
        minReadySeconds: 1,
        selector: { matchLabels: { app: 'frontend' } },
        template: {
          metadata: { labels: { app: 'frontend', tier: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'main',
                image: 'busybox',
                // Ready while a flag named after the Pod exists ($HOSTNAME is the Pod's name).
                command: ['sleep', '3600'],
                readinessProbe: { exec: { command: ['sh', '-c', `test -e ${flags}/$HOSTNAME`] }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    const created = await kubectl(['apply', '-f', '-'], stringify(manifest));
    expect(created.stdout.trim()).toBe('replicaset.apps/frontend created');
    await vi.waitFor(async () => expect(await pods()).toHaveLength(3), wait);
    for (const p of await pods()) {
      expect(p.metadata.name).toMatch(/^frontend-[a-z0-9]{5}$/);
      expect(p.metadata.labels).toEqual({ app: 'frontend', tier: 'web' });
      expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'frontend', controller: true, blockOwnerDeletion: true })]);
    }
    await vi.waitFor(async () => expect((await rs()).status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 }), wait);

    // Two become Ready; available only after minReadySeconds.
    const [a, b, c] = (await pods()).map((p) => p.metadata.name as string);
    writeFileSync(join(flags, a!), '');
    writeFileSync(join(flags, b!), '');
    await vi.waitFor(async () => expect((await rs()).status).toMatchObject({ replicas: 3, readyReplicas: 2 }), wait);
    await vi.waitFor(async () => expect((await rs()).status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 }), wait);

    // Scaling to 2 deletes the Pod that is not Ready.
    await ok('scale', 'rs', 'frontend', '--replicas=2');
    await vi.waitFor(async () => expect((await pods()).map((p) => p.metadata.name).sort()).toEqual([a, b].sort()), wait);
    expect(c).toBeDefined();
    await vi.waitFor(async () => expect((await rs()).status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 2 }), wait);

    // A Pod the node evicts ends Failed and is replaced (the Failed one stays, as on a real cluster).
    expect(cluster.kubelet!.evict('default', a!)).toBe(true);
    await vi.waitFor(async () => expect((await pods()).find((p) => p.metadata.name === a)?.status?.phase).toBe('Failed'), wait);
    await vi.waitFor(async () => {
      const names = (await pods()).filter((p) => p.status?.phase !== 'Failed').map((p) => p.metadata.name);
      expect(names).toHaveLength(2);
      expect(names).not.toContain(a);
    }, wait);
    const events = await ok('get', 'events', '--field-selector', 'involvedObject.name=frontend', '-o', 'jsonpath={range .items[*]}{.reason} {.message}{"\\n"}{end}');
    expect(events).toContain(`SuccessfulCreate Created pod: ${a}`);
    expect(events).toContain(`SuccessfulDelete Deleted pod: ${c}`);
  });

  it('counts a Pod Ready once its httpGet readiness probe answers 200', async () => {
    let answer = 503;
    const server = createServer((_req, res) => res.writeHead(answer).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      const manifest = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'probed' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'probed' } },
          template: {
            metadata: { labels: { app: 'probed' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { httpGet: { host: '127.0.0.1', port, path: '/ready' }, periodSeconds: 1 } }],
            },
          },
        },
      };
      await kubectl(['apply', '-f', '-'], stringify(manifest));
      const rsStatus = async () => JSON.parse(await ok('get', 'rs', 'probed', '-o', 'json')).status;
      await vi.waitFor(async () => expect(await rsStatus()).toMatchObject({ replicas: 1, fullyLabeledReplicas: 1 }), wait);
      expect((await rsStatus()).readyReplicas).toBeUndefined();
      answer = 200;
      await vi.waitFor(async () => expect(await rsStatus()).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1 }), wait);
      await ok('delete', 'rs', 'probed');
    } finally {
      server.close();
    }
  });
});
