import { Event } from 'kubernetes-models/v1/Event';
import { describe, expect, it } from 'vitest';
import { runnerPodName } from '../kubernetes/manifests/names.js';
import { validate } from '../kubernetes/testing/validate.js';
import { testRunEvent } from './testrun-event.js';
import { testRunRunId } from './testrun-run-id.js';

describe('testRunRunId', () => {
  it('is the same for the same TestRun, different for another uid, a UUIDv7 of the creation time that names Kubernetes objects', () => {
    const id = testRunRunId('93696a97-ae7e-4136-a6d0-ede3c69cfb70', '2026-11-30T03:49:57Z');
    expect(testRunRunId('93696a97-ae7e-4136-a6d0-ede3c69cfb70', '2026-11-30T03:49:57Z')).toBe(id);
    expect(testRunRunId('0c1f7c2e-0000-4000-8000-000000000000', '2026-11-30T03:49:57Z')).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // time-ordered like every run id: the first 48 bits are the creation time in ms
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2026-11-30T03:49:57Z'));
    expect(runnerPodName(id)).toBe(`topas-run-${id}`);
  });
});

describe('testRunEvent', () => {
  const base = { testRun: { name: 'hello', namespace: 'qa', uid: 'u-1' }, runId: '01a22a92-da88-7427-a905-1ffeacb5e37c', instance: 'topas-0', now: new Date('2026-11-30T03:50:04.508Z') };

  it('is a valid core/v1 Event about the TestRun, named from it, its run and the reason (a retry makes the same one)', () => {
    const e = validate(Event, testRunEvent({ ...base, reason: 'RunPassed', message: 'the run ended Passed', type: 'Normal' }));
    expect(e).toMatchObject({
      metadata: { name: 'hello.1ffeacb5e37c.runpassed', namespace: 'qa' },
      involvedObject: { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'hello', namespace: 'qa', uid: 'u-1' },
      reason: 'RunPassed',
      type: 'Normal',
      source: { component: 'topas-controller' },
      firstTimestamp: '2026-11-30T03:50:04Z',
      count: 1,
    });
    expect(testRunEvent({ ...base, reason: 'RunPassed', message: 'x', type: 'Normal' }).metadata.name).toBe(e.metadata.name);
  });

  it('keeps long names and messages within the API server limits', () => {
    const e = validate(Event, testRunEvent({ ...base, testRun: { ...base.testRun, name: 'a'.repeat(253) }, reason: 'RunFailed', message: 'm'.repeat(5000), type: 'Warning' }));
    expect(e.metadata.name.length).toBeLessThanOrEqual(253);
    expect(e.message!.length).toBeLessThanOrEqual(1024);
  });
});
