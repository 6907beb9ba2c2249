/**
 * A TestRun's status from its run (the store is the truth) and its runner Pod: the phase
 * and times of the run, its counts, why it did not pass, and four conditions:
 *
 * - `Ready` — the run's resources exist: `False/ResourcesCreating` until the runner Pod
 *   is made, `False/WaitingForCapacity` while the run is Queued under the global
 *   concurrency limit, `True/ResourcesCreated` once the Pod exists (and after).
 * - `PodsHealthy` — the runner Pod is healthy: `Unknown/NoPod` before there is one,
 *   `False` with Kubernetes' word (`ImagePullBackOff`, `Unschedulable`) while a problem
 *   may still clear, and with the run's reason (`ImagePullError`, `SchedulingError`,
 *   `OOMKilled`, `Evicted`, `PodDeleted`, …) once it ended the run.
 * - `TestCompleted` — `False/TestInProgress` until the run ends, then `True` with
 *   `TestSucceeded`, `TestFailed`, `TestTimedOut`, `TestCancelled` or `TestErrored`.
 * - `SpecDrifted` — `True/SpecChangedAfterStart` when the spec was edited after the run
 *   started: the run keeps executing the spec it started from.
 *
 * Pure: the controller reads the run and the Pod, calls this, and writes the result.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { humanDuration } from '../../core/go-duration.js';
import type { Run, RunReason } from '../../core/run.js';
import { isTerminal, type RunPhase } from '../../core/run-phase.js';
import type { Condition, TestRun, TestRunStatus } from '../../core/testrun.js';
import { runnerPodName } from '../manifests/names.js';
import { findCondition, setCondition, type ConditionUpdate } from './conditions.js';
import { DEFAULT_POD_GRACE_MS, isPodTrouble, podOutcome } from './pod-outcome.js';

export const CONDITION = {
  ready: 'Ready',
  podsHealthy: 'PodsHealthy',
  testCompleted: 'TestCompleted',
  specDrifted: 'SpecDrifted',
} as const;

/** Run reasons that are about the runner Pod rather than the test: they make `PodsHealthy` False. */
export const POD_REASONS: readonly RunReason[] = ['PodDeleted', 'Evicted', 'OOMKilled', 'ImagePullError', 'SchedulingError', 'CrashLoopBackOff', 'RunnerCrashed'];

const COMPLETED_REASON: Record<Exclude<RunPhase, 'Queued' | 'Running'>, string> = {
  Passed: 'TestSucceeded',
  Failed: 'TestFailed',
  Error: 'TestErrored',
  TimedOut: 'TestTimedOut',
  Cancelled: 'TestCancelled',
};

export interface TestRunStatusOptions {
  /** How long image pulls and scheduling may fail before the run ends Error. Default {@link DEFAULT_POD_GRACE_MS}. */
  graceMs?: number;
}

/** The API server refuses condition messages over 32768 characters. */
const MAX_MESSAGE = 32768;
function clip(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `3 steps passed, 1 failed; 5 assertions passed, 1 failed`. */
function counts(run: Run): string {
  const s = run.summary;
  return `${plural(s.stepsPassed, 'step')} passed, ${s.stepsFailed} failed; ${plural(s.assertionsPassed, 'assertion')} passed, ${s.assertionsFailed} failed`;
}

/**
 * The status of `testRun` given its run (null before it is recorded) and runner Pod (null
 * before it exists or once it is gone), at `now`. Conditions keep their
 * `lastTransitionTime` from `testRun.status` while their status does not change.
 */
export function testRunStatus(run: Run | null, pod: V1Pod | null, testRun: TestRun, now: Date, options: TestRunStatusOptions = {}): TestRunStatus {
  const previous = testRun.status ?? {};
  const generation = testRun.metadata.generation ?? 1;
  const runGeneration = run ? (previous.runGeneration ?? generation) : undefined;
  const phase: RunPhase = run?.phase ?? 'Queued';
  const terminal = isTerminal(phase);
  const outcome = pod && !terminal ? podOutcome(pod, now, options.graceMs ?? DEFAULT_POD_GRACE_MS) : null;
  const podName = pod?.metadata?.name ?? previous.podName ?? (run && run.phase !== 'Queued' && run.startedAt ? runnerPodName(run.id) : undefined);

  let conditions: Condition[] = [...(previous.conditions ?? [])];
  const set = (c: Omit<ConditionUpdate, 'observedGeneration'>) => {
    conditions = setCondition(conditions, { ...c, message: clip(c.message), observedGeneration: generation }, now);
  };

  // Ready
  const wasReady = findCondition(previous.conditions, CONDITION.ready)?.status === 'True';
  if (!run) set({ type: CONDITION.ready, status: 'False', reason: 'ResourcesCreating', message: 'recording the run in topas' });
  else if (phase === 'Queued') set({ type: CONDITION.ready, status: 'False', reason: 'WaitingForCapacity', message: 'queued: waiting for a free runner (the global concurrency limit, or another run on the same App)' });
  else if (pod || wasReady) set({ type: CONDITION.ready, status: 'True', reason: 'ResourcesCreated', message: `runner Pod ${podName} created` });
  else if (!terminal) set({ type: CONDITION.ready, status: 'False', reason: 'ResourcesCreating', message: 'creating the runner Pod' });
  else set({ type: CONDITION.ready, status: 'False', reason: 'NotCreated', message: `the run ended ${phase} before its runner Pod was created` });

  // PodsHealthy
  if (run && terminal && run.reason && POD_REASONS.includes(run.reason)) set({ type: CONDITION.podsHealthy, status: 'False', reason: run.reason, message: run.message ?? run.reason });
  else if (isPodTrouble(outcome)) set({ type: CONDITION.podsHealthy, status: 'False', reason: outcome.reason, message: outcome.message });
  else if (outcome && outcome.reason && POD_REASONS.includes(outcome.reason)) set({ type: CONDITION.podsHealthy, status: 'False', reason: outcome.reason, message: outcome.message ?? outcome.reason });
  else if (pod || (terminal && wasReady)) set({ type: CONDITION.podsHealthy, status: 'True', reason: 'Healthy', message: terminal ? 'the runner Pod ran to the end' : 'the runner Pod is healthy' });
  else set({ type: CONDITION.podsHealthy, status: 'Unknown', reason: 'NoPod', message: 'no runner Pod yet' });

  // TestCompleted
  if (!run || !terminal)
    set({ type: CONDITION.testCompleted, status: 'False', reason: 'TestInProgress', message: phase === 'Running' ? `running: ${counts(run!)} so far` : 'the run has not started' });
  else {
    const completed = COMPLETED_REASON[phase as keyof typeof COMPLETED_REASON];
    set({ type: CONDITION.testCompleted, status: 'True', reason: completed, message: phase === 'Passed' ? `passed: ${counts(run)}` : `${phase}${run.reason ? ` (${run.reason})` : ''}: ${run.message ?? counts(run)}` });
  }

  // SpecDrifted
  if (runGeneration !== undefined && generation > runGeneration)
    set({
      type: CONDITION.specDrifted,
      status: 'True',
      reason: 'SpecChangedAfterStart',
      message: `the spec changed after the run started (generation ${generation}; the run executes generation ${runGeneration}); the change is ignored: delete and re-apply the TestRun to run the new spec`,
    });
  else set({ type: CONDITION.specDrifted, status: 'False', reason: 'SpecUnchanged', message: 'the run executes the current spec' });

  const status: TestRunStatus = {
    phase,
    ...(run ? { runId: run.id } : {}),
    ...(podName ? { podName } : {}),
    ...(run?.startedAt ? { startTime: run.startedAt } : {}),
    ...(run?.finishedAt ? { completionTime: run.finishedAt } : {}),
    ...(run?.durationMs !== null && run?.durationMs !== undefined ? { duration: humanDuration(run.durationMs) } : {}),
    observedGeneration: generation,
    ...(runGeneration !== undefined ? { runGeneration } : {}),
    ...(run ? { summary: { ...run.summary } } : {}),
    ...(run && terminal && phase !== 'Passed' && run.reason ? { reason: run.reason } : {}),
    ...(run && terminal && phase !== 'Passed' && run.message ? { message: clip(run.message) } : {}),
    conditions,
  };
  return status;
}

/**
 * The status of a TestRun topas refused to run (its spec names an App or definition that
 * does not exist, its envFrom Secret is missing, …): `Error` with `reason` and `message`.
 */
export function testRunRejectedStatus(testRun: TestRun, reason: string, message: string, now: Date): TestRunStatus {
  const generation = testRun.metadata.generation ?? 1;
  let conditions = testRun.status?.conditions ?? [];
  message = clip(message);
  conditions = setCondition(conditions, { type: CONDITION.ready, status: 'False', reason, message, observedGeneration: generation }, now);
  conditions = setCondition(conditions, { type: CONDITION.testCompleted, status: 'True', reason: 'TestErrored', message, observedGeneration: generation }, now);
  return { phase: 'Error', observedGeneration: generation, reason, message, conditions };
}
