import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY, type Run } from '../../core/run.js';
import { TestRunStatusSchema, type TestRun } from '../../core/testrun.js';
import { testRunRejectedStatus, testRunStatus } from './testrun-status.js';

const runId = '0190f3b4-7c1a-7d2e-8f00-0123456789ab';
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

function testRun(generation = 1, status?: TestRun['status']): TestRun {
  return { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name: 'smoke', namespace: 'tests', uid: 'u1', generation }, spec: { script: 'x' }, ...(status ? { status } : {}) };
}

function run(over: Partial<Run>): Run {
  return {
    id: runId,
    name: 'smoke',
    phase: 'Queued',
    origin: 'crd',
    k8sRef: { namespace: 'tests', name: 'smoke', uid: 'u1' },
    appName: null,
    appReadOnly: false,
    source: { type: 'inline', script: 'x' },
    env: {},
    timeoutSeconds: 600,
    labels: {},
    createdAt: t(0).toISOString(),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    summary: { ...EMPTY_SUMMARY },
    reason: null,
    message: null,
    executor: null,
    category: null,
    categoryRule: null,
    profile: null,
    logsExpiredAt: null,
    ...over,
  };
}

const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: `topas-run-${runId}`, creationTimestamp: t(1) }, spec: { containers: [] }, status });
const byType = (s: { conditions?: { type: string; reason: string }[] }) => Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c]));

describe('testRunStatus', () => {
  it('is Queued with Ready=False/WaitingForCapacity while the run waits for a slot', () => {
    const s = testRunStatus(run({}), null, testRun(), t(1));
    expect(TestRunStatusSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ phase: 'Queued', runId, observedGeneration: 1, runGeneration: 1 });
    expect(byType(s)).toMatchObject({
      Ready: { status: 'False', reason: 'WaitingForCapacity', observedGeneration: 1, lastTransitionTime: t(1).toISOString() },
      PodsHealthy: { status: 'Unknown', reason: 'NoPod' },
      TestCompleted: { status: 'False', reason: 'TestInProgress' },
      SpecDrifted: { status: 'False' },
    });
  });

  it('is Ready once the Pod exists, and keeps transition times of conditions that did not change', () => {
    const queued = testRunStatus(run({}), null, testRun(), t(1));
    const running = testRunStatus(run({ phase: 'Running', startedAt: t(2).toISOString() }), pod({ phase: 'Running' }), testRun(1, queued), t(3));
    expect(running).toMatchObject({ phase: 'Running', podName: `topas-run-${runId}`, startTime: t(2).toISOString() });
    expect(byType(running)).toMatchObject({
      Ready: { status: 'True', reason: 'ResourcesCreated', lastTransitionTime: t(3).toISOString() },
      PodsHealthy: { status: 'True', reason: 'Healthy' },
      TestCompleted: { status: 'False', reason: 'TestInProgress', lastTransitionTime: t(1).toISOString() },
    });
  });

  it('ends Passed with the counts, the times and TestCompleted=True/TestSucceeded, without reason or message', () => {
    const summary = { ...EMPTY_SUMMARY, stepsPassed: 3, assertionsPassed: 2 };
    const s = testRunStatus(
      run({ phase: 'Passed', startedAt: t(2).toISOString(), finishedAt: t(6).toISOString(), durationMs: 4200, summary }),
      pod({ phase: 'Succeeded' }),
      testRun(),
      t(7),
    );
    expect(TestRunStatusSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ phase: 'Passed', completionTime: t(6).toISOString(), duration: '4.2s', summary });
    expect(s).not.toHaveProperty('reason');
    expect(byType(s).TestCompleted).toMatchObject({ status: 'True', reason: 'TestSucceeded', message: 'passed: 3 steps passed, 0 failed; 2 assertions passed, 0 failed' });
  });

  it('ends Failed with the first failure and its file:line as the message', () => {
    const s = testRunStatus(run({ phase: 'Failed', reason: 'AssertionFailed', message: 'smoke.lua:3: expected 2', finishedAt: t(5).toISOString(), durationMs: 3000 }), null, testRun(1, { conditions: [] }), t(6));
    expect(s).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: 'smoke.lua:3: expected 2' });
    expect(byType(s).TestCompleted).toMatchObject({ status: 'True', reason: 'TestFailed', message: 'Failed (AssertionFailed): smoke.lua:3: expected 2' });
  });

  it('names each end in TestCompleted', () => {
    const reasons = (['TimedOut', 'Cancelled', 'Error'] as const).map((phase) => byType(testRunStatus(run({ phase }), null, testRun(), t(1))).TestCompleted!.reason);
    expect(reasons).toEqual(['TestTimedOut', 'TestCancelled', 'TestErrored']);
  });

  it('shows a Pod problem in PodsHealthy while it may clear, and the run reason once it ended the run', () => {
    const pulling = pod({ phase: 'Pending', containerStatuses: [{ name: 'runner', image: 'nope:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] });
    const s = testRunStatus(run({ phase: 'Running', startedAt: t(1).toISOString() }), pulling, testRun(), t(5), { graceMs: 30_000 });
    expect(s.phase).toBe('Running');
    expect(byType(s).PodsHealthy).toMatchObject({ status: 'False', reason: 'ImagePullBackOff' });
    const ended = testRunStatus(run({ phase: 'Error', reason: 'ImagePullError', message: 'the image nope:1 cannot be pulled' }), pulling, testRun(1, s), t(40));
    expect(ended).toMatchObject({ phase: 'Error', reason: 'ImagePullError' });
    expect(byType(ended).PodsHealthy).toMatchObject({ status: 'False', reason: 'ImagePullError', lastTransitionTime: t(5).toISOString() });
  });

  it('reports SpecDrifted when the spec changed after the run started, and keeps the generation the run executes', () => {
    const started = testRunStatus(run({ phase: 'Running' }), null, testRun(1), t(1));
    const edited = testRunStatus(run({ phase: 'Running' }), null, testRun(2, started), t(2));
    expect(edited).toMatchObject({ observedGeneration: 2, runGeneration: 1 });
    expect(byType(edited).SpecDrifted).toMatchObject({ status: 'True', reason: 'SpecChangedAfterStart', observedGeneration: 2, message: expect.stringContaining('the change is ignored') });
  });

  it('says Ready=False/ResourcesCreating before the run is recorded', () => {
    const s = testRunStatus(null, null, testRun(), t(0));
    expect(s).toMatchObject({ phase: 'Queued' });
    expect(s).not.toHaveProperty('runId');
    expect(byType(s).Ready).toMatchObject({ status: 'False', reason: 'ResourcesCreating' });
  });
});

describe('testRunRejectedStatus', () => {
  it('ends a TestRun topas cannot run as Error with the reason', () => {
    const s = testRunRejectedStatus(testRun(), 'InvalidSpec', 'spec.appName: App "shop" does not exist; apply it first', t(0));
    expect(TestRunStatusSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ phase: 'Error', reason: 'InvalidSpec' });
    expect(byType(s)).toMatchObject({ Ready: { status: 'False', reason: 'InvalidSpec' }, TestCompleted: { status: 'True', reason: 'TestErrored' } });
  });
});
