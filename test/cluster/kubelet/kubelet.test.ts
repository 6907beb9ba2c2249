/**
 * The simulated kubelet against a minimal stand-in of the API server written here (the
 * real test API server is tested with it end to end in `kubelet-cluster.test.ts`). The
 * stand-in serves only what a kubelet asks: Pod list + watch (with 410 Gone on demand),
 * get, PUT status (409 on a stale resourceVersion), DELETE, and ConfigMap/Secret reads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupMembers } from '../../../src/apps/local/process-group.js';
import { defaultImageTable } from './images.js';
import { SimulatedKubelet } from './kubelet.js';
import { podProcesses } from './pod-processes.js';
import type { ContainerStatus, K8sObject, ObjectMeta, PodObject } from './pod-types.js';

const TOKEN = 'stand-in-token';

/** The stand-in API server: an in-memory store of objects with a resourceVersion counter and Pod watch streams. */
class StandIn {
  rv = 0;
  objects = new Map<string, K8sObject>();
  events: { rv: number; type: string; object: K8sObject }[] = [];
  watchers = new Set<{ res: ServerResponse; sent: number }>();
  /** Watches from a resourceVersion below this answer 410 Gone. */
  oldestRv = 0;
  server: Server;
  url = '';
  requests: string[] = [];
  /** How many of the next status writes to refuse with 409, as when another writer got there first. */
  conflictNext = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => this.route(req.method!, url, body, res, req.headers.authorization));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private commit(type: string, key: string, obj: K8sObject): K8sObject {
    obj.metadata.resourceVersion = String(++this.rv);
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, obj);
    if (obj.kind === 'Pod') {
      this.events.push({ rv: this.rv, type, object: structuredClone(obj) });
      for (const w of this.watchers) this.flush(w);
    }
    return obj;
  }

  private flush(w: { res: ServerResponse; sent: number }): void {
    for (const e of this.events) {
      if (e.rv <= w.sent) continue;
      w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      w.sent = e.rv;
    }
  }

  put(kind: 'Pod' | 'ConfigMap' | 'Secret', obj: { metadata: ObjectMeta; [field: string]: unknown }): K8sObject {
    const ns = obj.metadata.namespace ?? 'default';
    const key = `${kind}/${ns}/${obj.metadata.name}`;
    const prev = this.objects.get(key);
    const full = { ...structuredClone(obj), kind, metadata: { ...structuredClone(obj.metadata), namespace: ns, uid: prev?.metadata.uid ?? `uid-${this.rv + 1}-${obj.metadata.name}` } };
    return this.commit(prev ? 'MODIFIED' : 'ADDED', key, full);
  }

  pod(ns: string, name: string): PodObject | undefined {
    return this.objects.get(`Pod/${ns}/${name}`) as PodObject | undefined;
  }

  /** Graceful deletion as kube-apiserver does it for a Pod on a node: set deletionTimestamp, wait for the kubelet's final delete. */
  deleteGracefully(ns: string, name: string, graceSeconds: number): void {
    const pod = structuredClone(this.pod(ns, name)!);
    pod.metadata.deletionTimestamp = new Date().toISOString();
    pod.metadata.deletionGracePeriodSeconds = graceSeconds;
    this.commit('MODIFIED', `Pod/${ns}/${name}`, pod);
  }

  deleteNow(ns: string, name: string): void {
    const key = `Pod/${ns}/${name}`;
    this.commit('DELETED', key, structuredClone(this.objects.get(key)!));
  }

  /** Ends every watch and makes resuming from any earlier version answer 410 Gone. */
  expireWatches(): void {
    this.oldestRv = this.rv + 1;
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  private route(method: string, url: URL, body: string, res: ServerResponse, auth: string | undefined): void {
    this.requests.push(`${method} ${url.pathname}`);
    const send = (code: number, obj: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (auth !== `Bearer ${TOKEN}`) return send(401, { kind: 'Status', code: 401, message: 'Unauthorized' });
    if (url.pathname === '/api/v1/pods' && method === 'GET') {
      if (url.searchParams.get('watch') === 'true') {
        const from = Number(url.searchParams.get('resourceVersion') ?? this.rv);
        if (from < this.oldestRv) return send(410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
        res.writeHead(200, { 'content-type': 'application/json' });
        const w = { res, sent: from };
        this.watchers.add(w);
        res.on('close', () => this.watchers.delete(w));
        this.flush(w);
        return;
      }
      const items = [...this.objects.values()].filter((o) => o.kind === 'Pod');
      return send(200, { kind: 'PodList', metadata: { resourceVersion: String(this.rv) }, items });
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|configmaps|secrets)\/([^/]+)(\/status)?$/.exec(url.pathname);
    if (!m) return send(404, { kind: 'Status', code: 404, message: 'not found' });
    const kind = { pods: 'Pod', configmaps: 'ConfigMap', secrets: 'Secret' }[m[2]!]!;
    const key = `${kind}/${m[1]}/${m[3]}`;
    const current = this.objects.get(key);
    if (!current) return send(404, { kind: 'Status', code: 404, message: `${m[2]} "${m[3]}" not found` });
    if (method === 'GET') return send(200, current);
    if (method === 'PUT' && m[4]) {
      const sent = JSON.parse(body) as PodObject;
      if (this.conflictNext > 0) {
        this.conflictNext--;
        return send(409, { kind: 'Status', code: 409, message: 'the object has been modified' });
      }
      if (sent.metadata.resourceVersion !== current.metadata.resourceVersion) return send(409, { kind: 'Status', code: 409, message: 'the object has been modified' });
      return send(200, this.commit('MODIFIED', key, { ...structuredClone(current), status: sent.status }));
    }
    if (method === 'DELETE') {
      const opts = JSON.parse(body || '{}') as { preconditions?: { uid?: string } };
      if (opts.preconditions?.uid && opts.preconditions.uid !== current.metadata.uid) return send(409, { kind: 'Status', code: 409, message: 'uid precondition' });
      return send(200, this.commit('DELETED', key, structuredClone(current)));
    }
    return send(405, { kind: 'Status', code: 405, message: 'not allowed' });
  }
}

/** Waits for a condition to hold: generous, as the full suite shares two cores. */
const waitFor = <T>(check: () => T | Promise<T>, options: { timeout?: number; interval?: number } = { timeout: 15_000, interval: 20 }): Promise<T> => vi.waitFor(check, options);

const repoRoot = resolve(import.meta.dirname, '../../..');
let api: StandIn;
let kubelet: SimulatedKubelet;
let logDir: string;
let podCount = 0;

beforeAll(async () => {
  api = new StandIn();
  await api.listen();
  logDir = mkdtempSync(join(tmpdir(), 'kubelet-test-logs-'));
  kubelet = new SimulatedKubelet({
    apiUrl: api.url,
    token: TOKEN,
    logDir,
    images: defaultImageTable(repoRoot),
    timing: { maxGracePeriodMs: 1000, imagePullBackOffMs: 200, crashLoopBackOffMs: 100, retryMs: 100 },
  });
  await kubelet.start();
});

afterAll(async () => {
  await kubelet?.stop();
  // No container process outlives the kubelet.
  expect(podProcesses(/^kl-test-pod-/)).toEqual([]);
  await api?.close();
  rmSync(logDir, { recursive: true, force: true });
});

/** Creates a busybox Pod (restartPolicy Never unless the spec says otherwise); returns its name. */
function createPod(spec: Partial<PodObject['spec']> & { containers: PodObject['spec']['containers'] }, ns = 'default'): string {
  const name = `kl-test-pod-${++podCount}`;
  api.put('Pod', { apiVersion: 'v1', metadata: { name, namespace: ns }, spec: { restartPolicy: 'Never', ...spec } });
  return name;
}

async function phaseOf(name: string, phase: string, ns = 'default'): Promise<PodObject> {
  return waitFor(
    () => {
      const pod = api.pod(ns, name);
      expect(pod?.status?.phase).toBe(phase);
      return pod!;
    },
    { timeout: 15_000, interval: 20 },
  );
}

const main = (pod: PodObject, i = 0): ContainerStatus => pod.status!.containerStatuses![i]!;
const logOf = (name: string, container: string, ns = 'default') => readFileSync(join(logDir, ns, name, `${container}.log`), 'utf8');

describe('simulated kubelet (stand-in API server)', () => {
  it('runs a container with its ConfigMap at the mount path and env from a Secret, logs its output and ends Succeeded', async () => {
    api.put('ConfigMap', { metadata: { name: 'script' }, data: { 'hello.lua--enc': 'print("hello")', other: 'x' } });
    api.put('Secret', { metadata: { name: 'token' }, data: { token: Buffer.from('s3cret').toString('base64') } });
    const name = createPod({
      volumes: [
        { name: 'source', configMap: { name: 'script', items: [{ key: 'hello.lua--enc', path: 'lib/hello.lua' }] } },
        { name: 'token', secret: { secretName: 'token', defaultMode: 0o400 } },
      ],
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          command: ['sh', '-c'],
          args: ['echo "pod=$POD_NAME ip=$IP"; cat /topas/source/lib/hello.lua; echo; cat /topas/token/token; echo; echo "$(GREETING)"; ls /topas/source; pwd'],
          workingDir: '/topas/source',
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'GREETING', value: 'hi' },
          ],
          volumeMounts: [
            { name: 'source', mountPath: '/topas/source', readOnly: true },
            { name: 'token', mountPath: '/topas/token', readOnly: true },
          ],
        },
      ],
    });
    const pod = await phaseOf(name, 'Succeeded');
    const ip = pod.status!.podIP!;
    expect(ip).toMatch(/^127\.1\.\d+\.\d+$/);
    expect(logOf(name, 'main')).toBe(`pod=${name} ip=${ip}\nprint("hello")\ns3cret\nhi\nlib\n/topas/source\n`);
    const st = main(pod);
    expect(st.state).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } });
    expect(st).toMatchObject({ ready: false, restartCount: 0, image: 'busybox:1.36' });
    expect(st.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(st.imageID).toMatch(/busybox@sha256:/);
    expect(pod.status).toMatchObject({ podIPs: [{ ip }], hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }] });
    expect(pod.status!.startTime).toMatch(/Z$/);
    const cond = Object.fromEntries(pod.status!.conditions!.map((c) => [c.type, c]));
    expect(cond.PodScheduled!.status).toBe('True');
    expect(cond.Initialized!.status).toBe('True');
    expect(cond.Ready).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('hides nothing of the host: the mount paths exist only inside the container', async () => {
    const name = createPod({
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo inside > /topas/scratch/f && cat /topas/scratch/f'], volumeMounts: [{ name: 'scratch', mountPath: '/topas/scratch' }] }],
    });
    await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'c')).toBe('inside\n');
    // The host's /topas stays an empty mount root.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync('/topas')).toEqual([]);
  });

  it('runs init containers in order before the main one, sharing an emptyDir', async () => {
    const name = createPod({
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        { name: 'one', image: 'busybox', command: ['sh', '-c', 'echo one >> /topas/workspace/order'], volumeMounts: [{ name: 'work', mountPath: '/topas/workspace' }] },
        { name: 'two', image: 'busybox', command: ['sh', '-c', 'echo two >> /topas/workspace/order'], volumeMounts: [{ name: 'work', mountPath: '/topas/workspace' }] },
      ],
      containers: [{ name: 'main', image: 'busybox', command: ['cat', '/topas/workspace/order'], volumeMounts: [{ name: 'work', mountPath: '/topas/workspace' }] }],
    });
    const pod = await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'main')).toBe('one\ntwo\n');
    expect(pod.status!.initContainerStatuses!.map((s) => s.state)).toMatchObject([{ terminated: { exitCode: 0, reason: 'Completed' } }, { terminated: { exitCode: 0 } }]);
  });

  it('fails the Pod when an init container fails under restartPolicy Never; the main container never runs', async () => {
    const name = createPod({
      initContainers: [{ name: 'clone', image: 'busybox', command: ['sh', '-c', 'echo "fatal: repository not found" >&2; exit 3'], terminationMessagePolicy: 'FallbackToLogsOnError' }],
      containers: [{ name: 'main', image: 'busybox', command: ['echo', 'never'] }],
    });
    const pod = await phaseOf(name, 'Failed');
    expect(pod.status!.initContainerStatuses![0]!.state).toMatchObject({ terminated: { exitCode: 3, reason: 'Error', message: 'fatal: repository not found\n' } });
    expect(main(pod).state).toMatchObject({ waiting: { reason: 'PodInitializing' } });
    expect(pod.status!.conditions!.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized' });
  });

  it('reports an image it cannot pull as ErrImagePull, then ImagePullBackOff naming the image; the Pod stays Pending', async () => {
    const name = createPod({ containers: [{ name: 'main', image: 'registry.example/nope:1.0', command: ['x'] }] });
    const pod = await waitFor(
      () => {
        const p = api.pod('default', name)!;
        expect(main(p)?.state).toMatchObject({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example/nope:1.0"' } });
        return p;
      },
      { timeout: 5000, interval: 20 },
    );
    expect(pod.status!.phase).toBe('Pending');
    expect(api.events.some((e) => e.object.metadata.name === name && JSON.stringify(e.object).includes('"reason":"ErrImagePull"'))).toBe(true);
  });

  it('ends a Pod past activeDeadlineSeconds as Failed/DeadlineExceeded and kills its process', async () => {
    const name = createPod({ activeDeadlineSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }] });
    const pod = await phaseOf(name, 'Failed');
    expect(pod.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(main(pod).state).toMatchObject({ terminated: { exitCode: 143, reason: 'Error' } });
    expect(podProcesses(new RegExp(`^${name}$`))).toEqual([]);
  });

  it('writes the termination message file as terminated.message, and falls back to the log tail on failure', async () => {
    const ok = createPod({
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'printf "{\\"result\\":\\"passed\\"}" > /topas/termination-log'], terminationMessagePath: '/topas/termination-log', terminationMessagePolicy: 'FallbackToLogsOnError' }],
    });
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n');
    const failing = createPod({
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `printf '${lines}\\n'; exit 2`], terminationMessagePolicy: 'FallbackToLogsOnError' }],
    });
    const defaultPath = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo bye > /dev/termination-log; exit 1'] }] });
    expect(main(await phaseOf(ok, 'Succeeded')).state).toMatchObject({ terminated: { message: '{"result":"passed"}' } });
    const tail = (main(await phaseOf(failing, 'Failed')).state as { terminated: { message: string } }).terminated.message;
    expect(tail.startsWith('line 21\n')).toBe(true);
    expect(tail.endsWith('line 100\n')).toBe(true);
    expect(main(await phaseOf(defaultPath, 'Failed')).state).toMatchObject({ terminated: { exitCode: 1, reason: 'Error', message: 'bye\n' } });
  });

  it('stops a deleted Pod: SIGTERM, then the final delete; its processes are gone', async () => {
    const name = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo started; while true; do sleep 0.1; done'] }] });
    const pid = await waitFor(() => {
      expect(logOf(name, 'main')).toContain('started');
      return kubelet.containerPids('default', name).main!;
    });
    api.deleteGracefully('default', name, 30);
    await waitFor(() => expect(api.pod('default', name)).toBeUndefined(), { timeout: 5000, interval: 20 });
    expect(logOf(name, 'main')).toContain('got TERM');
    await waitFor(() => expect(groupMembers(pid)).toEqual([]));
    // A Pod removed at once (no graceful phase) is killed too.
    const other = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }] });
    const pid2 = await waitFor(() => {
      const p = kubelet.containerPids('default', other).main;
      expect(p).toBeGreaterThan(0);
      return p!;
    });
    api.deleteNow('default', other);
    await waitFor(() => expect(groupMembers(pid2)).toEqual([]));
  });

  it('test hooks: an OOM-killed container ends OOMKilled/137, an evicted Pod ends Failed/Evicted', async () => {
    const oom = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }] });
    const evicted = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }] });
    await waitFor(() => expect(kubelet.containerPids('default', oom).main && kubelet.containerPids('default', evicted).main).toBeGreaterThan(0));
    expect(kubelet.oomKill('default', oom, 'main')).toBe(true);
    expect(kubelet.evict('default', evicted)).toBe(true);
    expect(main(await phaseOf(oom, 'Failed')).state).toMatchObject({ terminated: { exitCode: 137, reason: 'OOMKilled' } });
    expect((await phaseOf(evicted, 'Failed')).status).toMatchObject({ reason: 'Evicted', message: expect.stringContaining('low on resource: memory') });
  });

  it('restarts a failing container under OnFailure with a back-off, counting restarts', async () => {
    const name = createPod({
      restartPolicy: 'OnFailure',
      volumes: [{ name: 'state', emptyDir: {} }],
      containers: [
        { name: 'main', image: 'busybox', command: ['sh', '-c', 'if [ -e /topas/state/ran ]; then echo second; else touch /topas/state/ran; echo first; exit 1; fi'], volumeMounts: [{ name: 'state', mountPath: '/topas/state' }] },
      ],
    });
    const pod = await phaseOf(name, 'Succeeded');
    expect(main(pod)).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error' } }, state: { terminated: { exitCode: 0 } } });
    expect(api.events.some((e) => e.object.metadata.name === name && JSON.stringify(e.object).includes('CrashLoopBackOff'))).toBe(true);
  });

  it('shows CrashLoopBackOff for a failing container under restartPolicy Always, the Pod staying Running', async () => {
    const name = createPod({ restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo crash; exit 1'] }] });
    const pod = await waitFor(
      () => {
        const p = api.pod('default', name)!;
        expect(main(p)).toMatchObject({ state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } });
        expect(main(p).restartCount).toBeGreaterThanOrEqual(2);
        return p;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(pod.status!.phase).toBe('Running');
    expect((main(pod).state as { waiting: { message: string } }).waiting.message).toMatch(new RegExp(`^back-off \\d+s restarting failed container=main pod=${name}_default\\(`));
    api.deleteNow('default', name);
  });

  it('writes status again on a fresh read when a write meets a conflict (409)', async () => {
    const before = api.requests.length;
    api.conflictNext = 2;
    const name = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['echo', 'ok'] }] });
    await phaseOf(name, 'Succeeded');
    expect(api.conflictNext).toBe(0);
    const mine = api.requests.slice(before).filter((r) => r.includes(`/pods/${name}`));
    expect(mine.filter((r) => r === `GET /api/v1/namespaces/default/pods/${name}`).length).toBeGreaterThanOrEqual(2);
  });

  it('makes the root filesystem read-only for a readOnlyRootFilesystem container, its volumes staying writable', async () => {
    const name = createPod({
      volumes: [{ name: 'tmp', emptyDir: {} }],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sh', '-c', 'touch /tmp/kl-test-ro 2>/dev/null && echo root-writable || echo root-read-only; touch /topas/tmp/x && echo volume-writable; echo msg > /dev/termination-log'],
          securityContext: { readOnlyRootFilesystem: true },
          volumeMounts: [{ name: 'tmp', mountPath: '/topas/tmp' }],
        },
      ],
    });
    const pod = await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'main')).toBe('root-read-only\nvolume-writable\n');
    expect(main(pod).state).toMatchObject({ terminated: { message: 'msg\n' } });
  });

  it('runs as runAsUser with fsGroup-readable Secret files, and mounts readOnly volumes read-only', async () => {
    api.put('Secret', { metadata: { name: 'private' }, data: { token: Buffer.from('only-for-1000').toString('base64') } });
    const name = createPod({
      securityContext: { runAsUser: 1000, runAsNonRoot: true, fsGroup: 2000 },
      volumes: [{ name: 'token', secret: { secretName: 'private', defaultMode: 0o400 } }],
      containers: [
        { name: 'main', image: 'busybox', command: ['sh', '-c', 'id -u; cat /topas/token/token; echo; touch /topas/token/x 2>/dev/null && echo writable || echo read-only'], volumeMounts: [{ name: 'token', mountPath: '/topas/token', readOnly: true }] },
      ],
    });
    await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'main')).toBe('1000\nonly-for-1000\nread-only\n');
  });

  it('runs the runner image as node bin/topas.js (entrypoint topas) as a non-root user', async () => {
    const name = createPod({
      securityContext: { runAsUser: 1000, runAsNonRoot: true },
      containers: [{ name: 'runner', image: 'ghcr.io/topas-dev/topas:0.1.0', args: ['--version'], securityContext: { readOnlyRootFilesystem: true } }],
    });
    const pod = await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'runner')).toBe('0.1.0\n');
    expect(main(pod).image).toBe('ghcr.io/topas-dev/topas:0.1.0');
  });

  it('runs the runner image from its own files at /opt/topas even when a volume covers the folder this checkout is in', async () => {
    // As a runner Pod's emptyDir at /tmp would cover a checkout in /tmp (CI clones there).
    const covered = `/${repoRoot.split('/').filter(Boolean)[0]}`;
    const name = createPod({
      securityContext: { runAsUser: 1000, runAsNonRoot: true },
      volumes: [{ name: 'cover', emptyDir: {} }],
      containers: [{ name: 'runner', image: 'ghcr.io/topas-dev/topas:0.1.0', args: ['--version'], volumeMounts: [{ name: 'cover', mountPath: covered }] }],
    });
    await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'runner')).toBe('0.1.0\n');
  });

  it('keeps waiting (CreateContainerConfigError) for a Secret that does not exist yet, and runs once it does', async () => {
    const name = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo "$GIT_PASSWORD"'], env: [{ name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: 'later', key: 'password' } } }] }] });
    await waitFor(() => expect(main(api.pod('default', name)!)?.state).toMatchObject({ waiting: { reason: 'CreateContainerConfigError', message: 'secret "later" not found' } }));
    api.put('Secret', { metadata: { name: 'later' }, data: { password: Buffer.from('pw').toString('base64') } });
    await phaseOf(name, 'Succeeded');
    expect(logOf(name, 'main')).toBe('pw\n');
  });

  it('lists again after 410 Gone and still sees new Pods', async () => {
    const before = api.requests.filter((r) => r === 'GET /api/v1/pods').length;
    api.expireWatches();
    const name = createPod({ containers: [{ name: 'main', image: 'busybox', command: ['echo', 'after relist'] }] });
    await phaseOf(name, 'Succeeded');
    expect(api.requests.filter((r) => r === 'GET /api/v1/pods').length).toBeGreaterThan(before + 1);
  });

  it('kills every container it started on stop(), leaving no process behind', async () => {
    const other = new SimulatedKubelet({ apiUrl: api.url, token: TOKEN, logDir, images: defaultImageTable(repoRoot), nodeName: 'second-node' });
    await other.start();
    const name = `kl-test-pod-${++podCount}`;
    api.put('Pod', { metadata: { name, namespace: 'default' }, spec: { nodeName: 'second-node', restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'sleep 60 & sleep 60'] }] } });
    const pid = await waitFor(() => {
      expect(logOf(name, 'main')).toBe('');
      const p = other.containerPids('default', name).main;
      expect(p).toBeGreaterThan(0);
      expect(groupMembers(p!).length).toBe(3);
      return p!;
    });
    expect(kubelet.containerPids('default', name)).toEqual({});
    expect(podProcesses(new RegExp(`^${name}$`)).length).toBe(3);
    await other.stop();
    expect(podProcesses(new RegExp(`^${name}$`))).toEqual([]);
    expect(groupMembers(pid)).toEqual([]);
  });
});
