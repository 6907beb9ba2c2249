import { describe, expect, it } from 'vitest';
import { buildPodStatus, podPhase, type PodView } from './pod-status.js';
import type { ContainerStatus } from './pod-types.js';

const container = (name: string, state: ContainerStatus['state'], ready = false): ContainerStatus => ({
  name,
  state,
  lastState: {},
  ready,
  started: 'running' in state,
  restartCount: 0,
  image: 'busybox',
  imageID: '',
});

const view = (over: Partial<PodView>): PodView => ({
  startTime: '2026-01-01T00:00:00Z',
  podIP: '127.1.0.7',
  sandboxReady: true,
  initialized: true,
  initContainers: [],
  containers: [],
  terminal: null,
  ...over,
});

describe('pod status', () => {
  it('is Pending until a main container has started, Running after, and the terminal phase at the end', () => {
    expect(podPhase(view({ initialized: false, containers: [container('m', { waiting: { reason: 'PodInitializing' } })] }))).toBe('Pending');
    expect(podPhase(view({ containers: [container('m', { waiting: { reason: 'ErrImagePull' } })] }))).toBe('Pending');
    expect(podPhase(view({ containers: [container('m', { running: { startedAt: 'x' } }, true)] }))).toBe('Running');
    expect(podPhase(view({ terminal: { phase: 'Failed', reason: 'DeadlineExceeded' } }))).toBe('Failed');
  });

  it('names the containers holding a condition back, and keeps lastTransitionTime while a condition holds', () => {
    const pending = buildPodStatus(
      view({
        initialized: false,
        initContainers: [container('clone', { running: { startedAt: 'x' } })],
        containers: [container('runner', { waiting: { reason: 'PodInitializing' } })],
      }),
      undefined,
      't1',
    );
    const byType = Object.fromEntries(pending.conditions!.map((c) => [c.type, c]));
    expect(byType.Initialized).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [clone]' });
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [runner]' });
    expect(pending.conditions!.map((c) => c.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

    const running = buildPodStatus(view({ containers: [container('runner', { running: { startedAt: 'x' } }, true)] }), pending.conditions, 't2');
    const after = Object.fromEntries(running.conditions!.map((c) => [c.type, c]));
    expect(after.PodScheduled!.lastTransitionTime).toBe('t1');
    expect(after.Ready).toMatchObject({ status: 'True', lastTransitionTime: 't2' });
    expect(running).toMatchObject({ phase: 'Running', podIP: '127.1.0.7', podIPs: [{ ip: '127.1.0.7' }], hostIP: '127.0.0.1', startTime: '2026-01-01T00:00:00Z' });
    expect(running).not.toHaveProperty('initContainerStatuses');

    const ended = buildPodStatus(view({ terminal: { phase: 'Failed', reason: 'Evicted', message: 'low on memory' }, containers: [] }), running.conditions, 't3');
    expect(ended).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: 'low on memory' });
    expect(ended.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });
});
