/**
 * The Pod status the kubelet writes, built from what it knows of the Pod's containers:
 * phase, the five conditions in the real kubelet's order (PodReadyToStartContainers,
 * Initialized, Ready, ContainersReady, PodScheduled) with `lastTransitionTime` kept
 * until a condition's status changes, IPs (the Pod's own loopback address; the host is
 * 127.0.0.1), start time and the
 * container statuses. Pure.
 */
import type { ContainerStatus, PodCondition, PodStatus } from './pod-types.js';

/** A Pod that has ended, and why (`DeadlineExceeded`, `Evicted`; none for a plain failure). */
export interface PodTerminal {
  phase: 'Succeeded' | 'Failed';
  reason?: string;
  message?: string;
}

export interface PodView {
  startTime: string;
  /** The Pod's IP (see `pod-ips.ts`). */
  podIP: string;
  /** The Pod's volumes are set up (its "sandbox" is ready). */
  sandboxReady: boolean;
  /** Every init container has succeeded. */
  initialized: boolean;
  initContainers: ContainerStatus[];
  containers: ContainerStatus[];
  terminal: PodTerminal | null;
}

/** Whether a container has ever started (running now, or terminated now or before). */
export function hasStarted(status: ContainerStatus): boolean {
  return !('waiting' in status.state) || 'terminated' in status.lastState;
}

/** Pending until a main container has started, Running after, and the terminal phase once the Pod has ended. */
export function podPhase(view: PodView): NonNullable<PodStatus['phase']> {
  if (view.terminal) return view.terminal.phase;
  if (view.initialized && view.containers.some(hasStarted)) return 'Running';
  return 'Pending';
}

export function buildPodStatus(view: PodView, previous: PodCondition[] | undefined, now: string): PodStatus {
  const phase = podPhase(view);
  const done = view.terminal !== null;
  const incomplete = view.initContainers.filter((c) => !('terminated' in c.state && c.state.terminated.exitCode === 0)).map((c) => c.name);
  const unready = view.containers.filter((c) => !c.ready).map((c) => c.name);
  const readyCondition = (type: string): Omit<PodCondition, 'lastTransitionTime' | 'lastProbeTime'> =>
    unready.length === 0 && !done
      ? { type, status: 'True' }
      : done
        ? { type, status: 'False', reason: 'PodCompleted' }
        : { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const wanted: Omit<PodCondition, 'lastTransitionTime' | 'lastProbeTime'>[] = [
    { type: 'PodReadyToStartContainers', status: view.sandboxReady && !done ? 'True' : 'False' },
    view.initialized
      ? { type: 'Initialized', status: 'True' }
      : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` },
    readyCondition('Ready'),
    readyCondition('ContainersReady'),
    { type: 'PodScheduled', status: 'True' },
  ];
  const conditions = wanted.map((c): PodCondition => {
    const before = previous?.find((p) => p.type === c.type);
    return { ...c, lastProbeTime: null, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now };
  });
  return {
    phase,
    conditions,
    ...(view.terminal?.reason ? { reason: view.terminal.reason } : {}),
    ...(view.terminal?.message ? { message: view.terminal.message } : {}),
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    podIP: view.podIP,
    podIPs: [{ ip: view.podIP }],
    startTime: view.startTime,
    ...(view.initContainers.length ? { initContainerStatuses: view.initContainers } : {}),
    containerStatuses: view.containers,
    qosClass: 'BestEffort',
  };
}
