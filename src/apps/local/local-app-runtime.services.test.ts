import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { AppSpec } from '../../core/app.js';
import { LocalAppRuntime } from './local-app-runtime.js';
import { appSpec, condition, echoService, eventually, getJson, isAlive, replicaPids, tempStateDir, TESTDATA, type EchoAnswer } from './testing/helpers.js';

/** Services as supervised processes behind a balancer, with real processes. Each test has its own runtime and state folder, so they run concurrently. */

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function setup(): { runtime: LocalAppRuntime; stateDir: string; apply: (name: string, generation: number, spec: AppSpec) => Promise<void> } {
  const state = tempStateDir();
  const runtime = new LocalAppRuntime({ stateDir: state.dir });
  cleanups.push(async () => {
    await runtime.close();
    state.remove();
  });
  return { runtime, stateDir: state.dir, apply: (name, generation, spec) => runtime.apply({ name, generation, spec, baseDir: TESTDATA }) };
}

describe.concurrent('LocalAppRuntime: services', () => {
  it('runs N replicas behind one balancer port: connections reach every replica, each with its own port and env', async ({ expect }) => {
    const { runtime, apply } = setup();
    await apply('multi', 1, appSpec({ services: [echoService({ replicas: 3, extraPort: 9090, envVars: { GREETING: 'hello ${version} on ${port}' } })] }));
    const ready = await runtime.waitReady('multi', 'web', 15_000);
    expect(ready).toMatchObject({ name: 'web', version: 'v1', replicas: 3, readyReplicas: 3, updatedReplicas: 3, restarts: 0 });

    const endpoint = runtime.endpoint('multi', 'web')!;
    expect(endpoint.host).toBe('127.0.0.1');
    const answers: EchoAnswer[] = [];
    for (let i = 0; i < 9; i++) answers.push(await getJson(endpoint));
    const pids = new Set(answers.map((a) => a.pid));
    expect(pids.size).toBe(3);
    expect(new Set(replicaPids(runtime.status('multi'), 'web'))).toEqual(pids);
    for (const a of answers) {
      expect(a.env.PORT).toBe(String(a.port));
      expect(a.port).not.toBe(endpoint.port);
      expect(a.env.GREETING).toBe(`hello v1 on ${a.port}`);
      expect(a.env.APP_VERSION).toBe('v1');
    }

    // The extra named port has its own balancer, selected by its declared number.
    const extra = runtime.endpoint('multi', 'web', 9090)!;
    expect(extra.port).not.toBe(endpoint.port);
    expect(runtime.endpoint('multi', 'web', 1234)).toEqual(endpoint);
    expect((await getJson(extra)).extra).toBe(true);
    expect(runtime.status('multi')!.services[0]!.ports).toEqual({ extra });

    const status = runtime.status('multi')!;
    expect(status.observedGeneration).toBe(1);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'AllReady', observedGeneration: 1 });
    expect(condition(status, 'Progressing')).toMatchObject({ status: 'False' });
    expect(condition(status, 'Degraded')).toMatchObject({ status: 'False' });

    const logs = await runtime.logs('multi', 'web');
    for (const i of [0, 1, 2]) expect(logs.some((l) => l.startsWith(`[${i}] listening on`))).toBe(true);
    expect(await runtime.logs('multi', 'web', { tail: 1 })).toHaveLength(1);

    // Re-applying the same spec changes nothing: same processes, same port.
    await apply('multi', 1, appSpec({ services: [echoService({ replicas: 3, extraPort: 9090, envVars: { GREETING: 'hello ${version} on ${port}' } })] }));
    expect(new Set(replicaPids(runtime.status('multi'), 'web'))).toEqual(pids);
    expect(runtime.endpoint('multi', 'web')).toEqual(endpoint);

    // Scale down to 1, then up to 2.
    await apply('multi', 2, appSpec({ services: [echoService({ replicas: 1, extraPort: 9090 })] }));
    await runtime.waitReady('multi', 'web', 15_000);
    await eventually('scaled down to one process', () => replicaPids(runtime.status('multi'), 'web').length === 1);
    await apply('multi', 3, appSpec({ services: [echoService({ replicas: 2, extraPort: 9090 })] }));
    expect((await runtime.waitReady('multi', 'web', 15_000)).readyReplicas).toBe(2);
  });

  it('gates traffic on readiness: a connection waits for a ready replica', async ({ expect }) => {
    const { runtime, apply } = setup();
    const started = Date.now();
    await apply('gated', 1, appSpec({ services: [echoService({ env: { READY_AFTER_MS: '1500' } })] }));
    const status = runtime.status('gated')!;
    expect(status.services[0]).toMatchObject({ readyReplicas: 0, replicas: 1 });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'ServicesNotReady' });
    expect(condition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'Starting' });

    // Listening but not ready: the connection is held until the replica is ready.
    const answer = await getJson(runtime.endpoint('gated', 'web')!);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(answer.version).toBe('v1');
    expect(runtime.status('gated')!.services[0]!.readyReplicas).toBe(1);

    await expect(runtime.waitReady('gated', 'nope', 100)).rejects.toThrow('service "gated/nope" not found');
    await expect(runtime.waitReady('nope', 'web', 100)).rejects.toThrow('App "nope" not found');
  });

  it('rolls a new version out one replica at a time without failing a request', async ({ expect }) => {
    const { runtime, apply } = setup();
    await apply('roll', 1, appSpec({ services: [echoService({ replicas: 2 })] }));
    await runtime.waitReady('roll', 'web', 15_000);
    const oldPids = replicaPids(runtime.status('roll'), 'web');
    const endpoint = runtime.endpoint('roll', 'web')!;
    const progressing: string[] = [];
    const unsubscribe = runtime.onStatus((name, status) => {
      if (name === 'roll') progressing.push(`${condition(status, 'Progressing')?.status}:${condition(status, 'Progressing')?.reason}`);
    });

    // Two clients hammer the balancer (a new connection per request) during the rollout.
    let hammering = true;
    const seen: { version: string; startedAt: number }[] = [];
    const failures: string[] = [];
    const client = async () => {
      while (hammering) {
        try {
          const startedAt = Date.now();
          seen.push({ version: (await getJson(endpoint)).version, startedAt });
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = [client(), client()];
    await new Promise((resolve) => setTimeout(resolve, 200));
    await apply('roll', 2, appSpec({ services: [echoService({ replicas: 2, version: 'v2' })] }));
    const done = await runtime.waitReady('roll', 'web', 20_000);
    const rolledOutAt = Date.now();
    await eventually('requests after the rollout', () => seen.filter((s) => s.startedAt > rolledOutAt).length >= 10);
    hammering = false;
    await Promise.all(clients);
    unsubscribe();

    expect(failures).toEqual([]);
    const versions = new Set(seen.map((s) => s.version));
    expect(versions).toEqual(new Set(['v1', 'v2']));
    // Once rolled out, every new connection reaches v2.
    const after = seen.filter((s) => s.startedAt > rolledOutAt);
    expect(new Set(after.map((s) => s.version))).toEqual(new Set(['v2']));
    expect(done).toMatchObject({ version: 'v2', readyReplicas: 2, updatedReplicas: 2 });
    expect(done.replicaStatuses!.map((r) => r.version)).toEqual(['v2', 'v2']);
    expect(progressing).toContain('True:RollingOut');
    await eventually('old replicas stopped', () => oldPids.every((pid) => !isAlive(pid)));
    expect(condition(runtime.status('roll'), 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('keeps the old replicas serving when the new version fails, and says why', async ({ expect }) => {
    const { runtime, apply } = setup();
    await apply('broken', 1, appSpec({ services: [echoService({ replicas: 2 })] }));
    await runtime.waitReady('broken', 'web', 15_000);
    const oldPids = replicaPids(runtime.status('broken'), 'web');

    await apply('broken', 2, appSpec({ services: [echoService({ replicas: 2, version: 'v2', env: { FAIL_AT_START: '3' } })] }));
    await expect(runtime.waitReady('broken', 'web', 2000)).rejects.toThrow(/^web: 0\/2 replicas ready, replica 0 exited with code 3: boom: v2 cannot start/);

    const status = runtime.status('broken')!;
    expect(status.observedGeneration).toBe(2);
    expect(status.services[0]).toMatchObject({ version: 'v2', readyReplicas: 2 });
    // At most the one surge replica runs v2 (it may be between two crashes).
    expect(status.services[0]!.updatedReplicas).toBeLessThanOrEqual(1);
    expect(condition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(condition(status, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLoopBackOff' });
    expect(condition(status, 'Degraded')!.message).toContain('web: replica 0 (v2) exited with code 3: boom: v2 cannot start');
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False' });
    // The new version alone counts: its one surge replica keeps crashing, so the rollout will not finish.
    const stuck = await eventually('the rollout reported crash looping', () => (runtime.status('broken')!.services[0]!.reason === 'CrashLoopBackOff' ? runtime.status('broken')!.services[0] : null), 20_000);
    expect(stuck.message).toMatch(/^replica 0 exited with code 3: boom: v2 cannot start/);
    // Only one surge at a time: replica 1 was not touched.
    for (let i = 0; i < 4; i++) expect((await getJson(runtime.endpoint('broken', 'web')!)).version).toBe('v1');
    expect(oldPids.every(isAlive)).toBe(true);

    // Rolling back converges at once.
    await apply('broken', 3, appSpec({ services: [echoService({ replicas: 2 })] }));
    await runtime.waitReady('broken', 'web', 5000);
    expect(replicaPids(runtime.status('broken'), 'web').sort()).toEqual([...oldPids].sort());
    expect(condition(runtime.status('broken'), 'Degraded')).toMatchObject({ status: 'False' });
    expect(condition(runtime.status('broken'), 'Progressing')).toMatchObject({ status: 'False' });
  });

  it('reports a service whose every replica crashes at start as CrashLoopBackOff, with the last lines each printed', async ({ expect }) => {
    const { runtime, apply } = setup();
    const started = Date.now();
    await apply('crashy', 1, appSpec({ services: [echoService({ replicas: 2, env: { FAIL_AT_START: '3' } })] }));
    const first = await eventually('a first exit', () => runtime.status('crashy')!.services[0]!.replicaStatuses!.find((r) => r.lastExit), 10_000);
    // One exit is not a loop yet: the back-off gives it more tries.
    expect(runtime.status('crashy')!.services[0]!.reason).toBeUndefined();
    expect(first.lastLog).toEqual(['boom: v1 cannot start']);
    const service = await eventually('CrashLoopBackOff', () => (runtime.status('crashy')!.services[0]!.reason === 'CrashLoopBackOff' ? runtime.status('crashy')!.services[0] : null), 20_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(service.readyReplicas).toBe(0);
    expect(service.message).toMatch(/^replica \d exited with code 3: boom: v1 cannot start/);
    for (const replica of service.replicaStatuses!) {
      expect(replica.restarts).toBeGreaterThanOrEqual(3);
      expect(replica.lastExit).toBe('exited with code 3: boom: v1 cannot start');
      expect(replica.lastLog).toEqual(['boom: v1 cannot start']);
    }
  });

  it('heals a killed replica and counts the restart', async ({ expect }) => {
    const { runtime, apply } = setup();
    await apply('heal', 1, appSpec({ services: [echoService({ replicas: 2 })] }));
    await runtime.waitReady('heal', 'web', 15_000);
    const before = replicaPids(runtime.status('heal'), 'web');

    const { pid } = await runtime.kill('heal', 'web');
    expect(pid).toBe(before[0]);
    expect(isAlive(pid)).toBe(false);
    const healed = await eventually('replica 0 restarted and ready', async () => {
      const s = await runtime.waitReady('heal', 'web', 10_000);
      return s.replicaStatuses![0]!.pid !== pid ? s : null;
    });
    expect(healed).toMatchObject({ readyReplicas: 2, restarts: 1 });
    expect(healed.replicaStatuses![0]).toMatchObject({ index: 0, restarts: 1, ready: true, lastExit: expect.stringMatching(/^killed by SIGKILL: listening on/) });
    expect(healed.replicaStatuses![1]).toMatchObject({ index: 1, restarts: 0, pid: before[1] });
    // A deliberate kill is not a crash loop.
    expect(condition(runtime.status('heal'), 'Degraded')).toMatchObject({ status: 'False' });
    await expect(runtime.kill('heal', 'web', 5)).rejects.toThrow('web: replica 5 is not running');
  });

  it('restarts a service rolling, one replica at a time; a service without local.command is Degraded', async ({ expect }) => {
    const { runtime, apply } = setup();
    const remote = { name: 'remote', version: 'v1', port: 9000, image: 'example/remote:v1' };
    await apply('restart', 1, appSpec({ services: [echoService({ replicas: 2 }), remote] }));
    await runtime.waitReady('restart', 'web', 15_000);
    const before = replicaPids(runtime.status('restart'), 'web');

    await runtime.restart('restart', 'web');
    const after = runtime.status('restart')!.services[0]!;
    expect(after).toMatchObject({ readyReplicas: 2, updatedReplicas: 2, restarts: 0 });
    expect(replicaPids(runtime.status('restart'), 'web').some((pid) => before.includes(pid))).toBe(false);
    expect(before.filter(isAlive)).toEqual([]);

    await expect(runtime.waitReady('restart', 'remote', 100)).rejects.toThrow('remote: has no local.command');
    const degraded = condition(runtime.status('restart'), 'Degraded')!;
    expect(degraded).toMatchObject({ status: 'True', reason: 'NoLocalCommand' });
    expect(runtime.status('restart')!.services[1]).toMatchObject({ name: 'remote', replicas: 1, readyReplicas: 0 });
  });

  it('prunes a service removed from the spec', async ({ expect }) => {
    const { runtime, stateDir, apply } = setup();
    await apply('prune', 1, appSpec({ services: [echoService({ name: 'a' }), echoService({ name: 'b', replicas: 2 })] }));
    await Promise.all([runtime.waitReady('prune', 'a', 15_000), runtime.waitReady('prune', 'b', 15_000)]);
    const bPids = replicaPids(runtime.status('prune'), 'b');
    const bEndpoint = runtime.endpoint('prune', 'b')!;
    expect(bPids).toHaveLength(2);

    await apply('prune', 2, appSpec({ services: [echoService({ name: 'a' })] }));
    expect(bPids.some(isAlive)).toBe(false);
    expect(runtime.endpoint('prune', 'b')).toBeNull();
    expect(runtime.status('prune')!.services.map((s) => s.name)).toEqual(['a']);
    await expect(getJson(bEndpoint, '/', 2000)).rejects.toThrow();
    expect(Object.keys((JSON.parse(readFileSync(join(stateDir, 'prune', 'state.json'), 'utf8')) as { services: object }).services)).toEqual(['a']);
  });

  it('leaves no process behind after delete() or close(), wrappers and their children included', async ({ expect }) => {
    const { runtime, stateDir, apply } = setup();
    const spec = appSpec({ services: [echoService({ replicas: 2, viaShell: true, env: { SPAWN_CHILD: '1' } })] });
    await Promise.all([apply('gone', 1, spec), apply('kept', 1, spec)]);
    await Promise.all([runtime.waitReady('gone', 'web', 15_000), runtime.waitReady('kept', 'web', 15_000)]);

    /** The shell wrappers, the node services they run and the children those started. */
    const family = async (app: string) => {
      const pids = replicaPids(runtime.status(app), 'web');
      const answers = await Promise.all([0, 1, 2, 3, 4, 5].map(() => getJson(runtime.endpoint(app, 'web')!)));
      for (const a of answers) pids.push(a.pid, a.childPid!);
      return [...new Set(pids)];
    };
    const gone = await family('gone');
    const kept = await family('kept');
    expect(gone.length).toBeGreaterThanOrEqual(5);
    expect(gone.every(isAlive)).toBe(true);

    await runtime.delete('gone');
    expect(gone.filter(isAlive)).toEqual([]);
    expect(runtime.status('gone')).toBeNull();
    expect(existsSync(join(stateDir, 'gone'))).toBe(false);
    expect(kept.every(isAlive)).toBe(true);

    await runtime.close();
    expect(kept.filter(isAlive)).toEqual([]);
    const state = JSON.parse(readFileSync(join(stateDir, 'kept', 'state.json'), 'utf8')) as { services: Record<string, { processes: unknown[]; ports: Record<string, number> }> };
    expect(state.services.web!.processes).toEqual([]);
    expect(state.services.web!.ports['']).toBeGreaterThan(0);
    await expect(apply('kept', 2, spec)).rejects.toThrow('closed');
  });
});
