import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY, type RunCompletion } from '../../core/run.js';
import { checkedOutCommit, podDeletedCompletion, podOutcome } from './pod-outcome.js';

const created = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(created.getTime() + s * 1000);
const GRACE = 30_000;

function pod(status: V1Pod['status'], extra: Partial<V1Pod> = {}): V1Pod {
  return {
    metadata: { name: 'topas-run-x', creationTimestamp: created, ...extra.metadata },
    spec: { containers: [{ name: 'runner', image: 'ghcr.io/topas-dev/topas:0.1.0' }], activeDeadlineSeconds: 630 },
    status,
  };
}

const result: RunCompletion = { phase: 'Failed', reason: 'AssertionFailed', message: 'smoke.lua:3: expected 2, got 3', summary: { ...EMPTY_SUMMARY, stepsPassed: 1, stepsFailed: 1, assertionsFailed: 1 } };
const terminated = (t: Record<string, unknown>) => [{ name: 'runner', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, ...t } } }];
const waiting = (reason: string, message?: string) => [{ name: 'runner', image: 'registry.invalid/nope:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }];

describe('podOutcome', () => {
  it("takes the runner's result from its termination message, whatever the Pod phase", () => {
    expect(podOutcome(pod({ phase: 'Failed', containerStatuses: terminated({ exitCode: 1, message: JSON.stringify(result) }) }), at(5))).toEqual(result);
    const passed = { ...result, phase: 'Passed', reason: null, message: null };
    expect(podOutcome(pod({ phase: 'Succeeded', containerStatuses: terminated({ exitCode: 0, message: JSON.stringify(passed) }) }), at(5))).toEqual(passed);
  });

  it('makes a runner that exited without a result Error/RunnerCrashed with its last log line', () => {
    const out = podOutcome(pod({ phase: 'Failed', containerStatuses: terminated({ exitCode: 2, reason: 'Error', message: 'starting\nError: connect ECONNREFUSED 10.0.0.1:4000\n' }) }), at(5));
    expect(out).toMatchObject({ phase: 'Error', reason: 'RunnerCrashed', message: 'the runner exited with code 2 without reporting a result; its last log line: Error: connect ECONNREFUSED 10.0.0.1:4000' });
    expect(podOutcome(pod({ phase: 'Succeeded', containerStatuses: terminated({ exitCode: 0 }) }), at(5))).toMatchObject({ phase: 'Error', reason: 'RunnerCrashed' });
  });

  it('maps the deadline to TimedOut, eviction and the OOM killer to Error with that reason', () => {
    expect(podOutcome(pod({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }), at(700))).toMatchObject({
      phase: 'TimedOut',
      reason: 'Timeout',
      message: expect.stringContaining('activeDeadlineSeconds 630'),
    });
    expect(podOutcome(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }), at(5))).toMatchObject({
      phase: 'Error',
      reason: 'Evicted',
      message: 'the runner Pod topas-run-x was evicted: The node was low on resource: memory.',
    });
    expect(podOutcome(pod({ phase: 'Failed', containerStatuses: terminated({ exitCode: 137, reason: 'OOMKilled' }) }), at(5))).toMatchObject({ phase: 'Error', reason: 'OOMKilled' });
  });

  it('reports an image that cannot be pulled as trouble within the grace period, then as Error/ImagePullError', () => {
    const p = pod({ phase: 'Pending', containerStatuses: waiting('ImagePullBackOff', 'Back-off pulling image "registry.invalid/nope:1"') });
    expect(podOutcome(p, at(10), GRACE)).toEqual({
      healthy: false,
      reason: 'ImagePullBackOff',
      message: 'the image registry.invalid/nope:1 of container runner cannot be pulled (ImagePullBackOff): Back-off pulling image "registry.invalid/nope:1" (giving up in 20s)',
    });
    expect(podOutcome(p, at(30), GRACE)).toMatchObject({ phase: 'Error', reason: 'ImagePullError', summary: EMPTY_SUMMARY });
    expect(podOutcome(pod({ phase: 'Pending', containerStatuses: waiting('ErrImagePull') }), at(31), GRACE)).toMatchObject({ reason: 'ImagePullError' });
  });

  it('reports an unschedulable Pod as trouble, then as Error/SchedulingError, counting from when it became unschedulable', () => {
    const p = pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.', lastTransitionTime: at(10) }],
    });
    expect(podOutcome(p, at(30), GRACE)).toMatchObject({ healthy: false, reason: 'Unschedulable', message: expect.stringContaining('3 Insufficient memory') });
    expect(podOutcome(p, at(40), GRACE)).toMatchObject({ phase: 'Error', reason: 'SchedulingError', message: 'no node can run the runner Pod topas-run-x: 0/3 nodes are available: 3 Insufficient memory.' });
  });

  it('reports a git checkout that failed, with its own result when it wrote one', () => {
    const init = (t: Record<string, unknown>) => [{ name: 'git-checkout', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, ...t } } }];
    const own = { phase: 'Error', reason: 'ScriptError', message: 'git: revision v9 not found', summary: EMPTY_SUMMARY };
    expect(podOutcome(pod({ phase: 'Failed', initContainerStatuses: init({ message: JSON.stringify(own) }) }), at(5))).toEqual(own);
    expect(podOutcome(pod({ phase: 'Failed', initContainerStatuses: init({ message: 'revision v9 not found in file:///repo.git' }) }), at(5))).toMatchObject({
      phase: 'Error',
      reason: 'SourceUnavailable',
      message: 'the git checkout failed: revision v9 not found in file:///repo.git',
    });
  });

  it('tells the commit a successful checkout resolved to, and nothing else', () => {
    const sha = 'a'.repeat(40);
    const done = (message: string, exitCode = 0) => pod({ phase: 'Running', initContainerStatuses: [{ name: 'git-checkout', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, message } } }] });
    expect(checkedOutCommit(done(`${sha}\n`))).toBe(sha);
    expect(checkedOutCommit(done('fatal: not found', 2))).toBeNull();
    expect(checkedOutCommit(done(sha, 2))).toBeNull();
    expect(checkedOutCommit(pod({ phase: 'Running' }))).toBeNull();
  });

  it('reports a Pod being deleted before its run ended as Error/PodDeleted', () => {
    expect(podOutcome(pod({ phase: 'Running' }, { metadata: { name: 'topas-run-x', deletionTimestamp: at(3) } }), at(4))).toEqual(podDeletedCompletion('topas-run-x'));
    expect(podDeletedCompletion('p')).toMatchObject({ phase: 'Error', reason: 'PodDeleted' });
  });

  it('has nothing to say about a Pod that starts or runs normally', () => {
    expect(podOutcome(pod({ phase: 'Pending', containerStatuses: waiting('ContainerCreating') }), at(100), GRACE)).toBeNull();
    expect(podOutcome(pod({ phase: 'Running', containerStatuses: [{ name: 'runner', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] }), at(100))).toBeNull();
    expect(podOutcome(pod(undefined), at(0))).toBeNull();
  });
});
