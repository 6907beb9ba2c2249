/**
 * What a runner Pod's status says about its run, in the run's words. The runner reports
 * its end to topas over the runner protocol; this is how topas learns the end when that
 * report never came (the runner crashed, was killed, or its Pod never started) and what
 * the `PodsHealthy` condition shows meanwhile.
 *
 * - a {@link RunCompletion}: the Pod has settled how the run ended — the runner's own
 *   result from its termination message, or an `Error`/`TimedOut` for what happened to
 *   the Pod (`Evicted`, `OOMKilled`, the deadline, an image that cannot be pulled or a
 *   Pod that cannot be scheduled for longer than the grace period, …). Its `summary` is
 *   what the runner knew (empty for Pod failures): keep the counts the store has.
 * - a {@link PodTrouble}: something is wrong but may still clear up (an image pull
 *   backing off, no node yet) and the grace period has not passed.
 * - `null`: nothing to report (the Pod is starting or running normally).
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { EMPTY_SUMMARY, type RunCompletion, type RunReason } from '../../core/run.js';
import { parseRunCompletion } from '../../core/schemas/run-completion.js';
import { GIT_CHECKOUT_CONTAINER, RUNNER_CONTAINER } from '../manifests/runner-pod.js';

/** A problem of a Pod that has not (yet) decided its run. `reason` is Kubernetes' word (`ImagePullBackOff`, `Unschedulable`). */
export interface PodTrouble {
  healthy: false;
  reason: string;
  message: string;
}

export type PodOutcome = RunCompletion | PodTrouble | null;

/** How long a runner Pod may wait for its image or a node before its run ends `Error`, unless told otherwise. */
export const DEFAULT_POD_GRACE_MS = 60_000;

const IMAGE_PULL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CONFIG_WAITING = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function isPodTrouble(outcome: PodOutcome): outcome is PodTrouble {
  return outcome !== null && 'healthy' in outcome;
}

function completion(phase: RunCompletion['phase'], reason: RunReason, message: string): RunCompletion {
  return { phase, reason, message, summary: { ...EMPTY_SUMMARY } };
}

/** The completion for a runner Pod that disappeared before its run ended (deleted by someone, or by its node going away). */
export function podDeletedCompletion(podName: string): RunCompletion {
  return completion('Error', 'PodDeleted', `the runner Pod ${podName} was deleted before the run ended; the log up to then is kept`);
}

function time(value: Date | string | undefined): number | null {
  if (value === undefined) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : t;
}

/** The last non-empty line of a text (a termination message that fell back to the container's log). */
export function lastLine(text: string | undefined): string | null {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1]! : null;
}

function statusOf(statuses: V1ContainerStatus[] | undefined, name: string): V1ContainerStatus | undefined {
  return statuses?.find((s) => s.name === name);
}

/** What a terminated container (runner or git checkout) says: its JSON result, OOM, or a crash with its last log line. */
function terminatedOutcome(status: V1ContainerStatus, what: string): RunCompletion | null {
  const t = status.state?.terminated;
  if (!t) return null;
  const reported = parseRunCompletion(t.message);
  if (reported) return reported;
  if (t.reason === 'OOMKilled') return completion('Error', 'OOMKilled', `the ${what} was killed for exceeding its memory limit (OOMKilled); raise spec.runner.resources.limits.memory`);
  if (t.exitCode === 0 && what === 'git checkout') return null;
  const line = lastLine(t.message);
  // `topas git-checkout` writes why it failed (revision or path not found, URL refused) as its message.
  if (what === 'git checkout') return completion('Error', 'SourceUnavailable', `the git checkout failed${line ? `: ${line}` : ` with exit code ${t.exitCode}`}`);
  return completion(
    'Error',
    'RunnerCrashed',
    `the ${what} exited with code ${t.exitCode}${t.reason && t.reason !== 'Error' && t.reason !== 'Completed' ? ` (${t.reason})` : ''} without reporting a result${line ? `; its last log line: ${line}` : ''}`,
  );
}

/**
 * The commit the Pod's git checkout resolved to (its init container's termination
 * message, written by `topas git-checkout --termination-log`), once it succeeded; else null.
 */
export function checkedOutCommit(pod: V1Pod): string | null {
  const t = statusOf(pod.status?.initContainerStatuses, GIT_CHECKOUT_CONTAINER)?.state?.terminated;
  const sha = t && t.exitCode === 0 ? t.message?.trim() : undefined;
  return sha && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha) ? sha : null;
}

/** The outcome of a runner Pod at `now`; `graceMs` is how long image pulls and scheduling may keep failing. */
export function podOutcome(pod: V1Pod, now: Date, graceMs: number = DEFAULT_POD_GRACE_MS): PodOutcome {
  const name = pod.metadata?.name ?? 'runner Pod';
  const status = pod.status ?? {};
  const main = statusOf(status.containerStatuses, RUNNER_CONTAINER) ?? status.containerStatuses?.[0];
  const init = statusOf(status.initContainerStatuses, GIT_CHECKOUT_CONTAINER);

  if (status.phase === 'Succeeded' || status.phase === 'Failed') {
    if (status.reason === 'DeadlineExceeded')
      return completion('TimedOut', 'Timeout', `the runner Pod ${name} passed its deadline (activeDeadlineSeconds ${pod.spec?.activeDeadlineSeconds ?? '?'}) before the run reported its end`);
    if (status.reason === 'Evicted') return completion('Error', 'Evicted', `the runner Pod ${name} was evicted: ${status.message ?? 'node pressure'}`);
    if (init?.state?.terminated && init.state.terminated.exitCode !== 0) return terminatedOutcome(init, 'git checkout');
    if (main?.state?.terminated) return terminatedOutcome(main, 'runner');
    return completion('Error', 'RunnerCrashed', `the runner Pod ${name} ended ${status.phase}${status.reason ? ` (${status.reason})` : ''} without a runner result${status.message ? `: ${status.message}` : ''}`);
  }
  if (pod.metadata?.deletionTimestamp) return podDeletedCompletion(name);
  if (status.phase !== 'Pending' && status.phase !== 'Running' && status.phase !== undefined) return null;

  const since = time(status.startTime) ?? time(pod.metadata?.creationTimestamp) ?? now.getTime();
  const pastGrace = now.getTime() - since >= graceMs;
  const left = Math.max(0, Math.ceil((graceMs - (now.getTime() - since)) / 1000));

  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const from = time(scheduled.lastTransitionTime) ?? since;
    const message = `no node can run the runner Pod ${name}: ${scheduled.message ?? 'unschedulable'}`;
    if (now.getTime() - from >= graceMs) return completion('Error', 'SchedulingError', message);
    return { healthy: false, reason: 'Unschedulable', message: `${message} (giving up in ${Math.max(0, Math.ceil((graceMs - (now.getTime() - from)) / 1000))}s)` };
  }

  for (const s of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const waiting = s.state?.waiting;
    if (!waiting?.reason) continue;
    const detail = waiting.message ? `: ${waiting.message}` : '';
    if (IMAGE_PULL_WAITING.has(waiting.reason)) {
      const message = `the image ${s.image} of container ${s.name} cannot be pulled (${waiting.reason})${detail}`;
      if (pastGrace) return completion('Error', 'ImagePullError', message);
      return { healthy: false, reason: waiting.reason, message: `${message} (giving up in ${left}s)` };
    }
    if (waiting.reason === 'CrashLoopBackOff') {
      const message = `container ${s.name} keeps crashing (CrashLoopBackOff, ${s.restartCount} restarts)${detail}`;
      if (pastGrace) return completion('Error', 'CrashLoopBackOff', message);
      return { healthy: false, reason: waiting.reason, message: `${message} (giving up in ${left}s)` };
    }
    if (CONFIG_WAITING.has(waiting.reason)) {
      const message = `container ${s.name} cannot be created (${waiting.reason})${detail}`;
      if (pastGrace) return completion('Error', 'RunnerCrashed', message);
      return { healthy: false, reason: waiting.reason, message: `${message} (giving up in ${left}s)` };
    }
  }
  return null;
}
