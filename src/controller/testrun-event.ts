/**
 * A Kubernetes Event about a TestRun (what `kubectl describe testrun` lists under
 * Events): what the controller did — recorded the run, started its runner Pod, saw it
 * end. Its name is derived from the TestRun, its run and the reason, so a reconcile
 * retried after a crash re-creates the same Event (AlreadyExists) instead of a copy.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { TESTRUN_API_VERSION, TESTRUN_KIND } from '../core/testrun.js';

export const EVENT_COMPONENT = 'topas-controller';

export interface TestRunEventOptions {
  testRun: { name: string; namespace: string; uid: string };
  runId: string;
  /** CamelCase: `RunRecorded`, `RunnerStarted`, `RunPassed`, `RunFailed`, … */
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  /** The reporting instance (`topas up`'s instance id). */
  instance: string;
  now: Date;
}

export type TestRunEvent = CoreV1Event & { metadata: { name: string; namespace: string } };

export function testRunEvent(o: TestRunEventOptions): TestRunEvent {
  const time = o.now.toISOString().replace(/\.\d+Z$/, 'Z');
  const suffix = `${o.runId.slice(-12)}.${o.reason.toLowerCase()}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${o.testRun.name.slice(0, 253 - suffix.length - 1)}.${suffix}`, namespace: o.testRun.namespace },
    involvedObject: { apiVersion: TESTRUN_API_VERSION, kind: TESTRUN_KIND, name: o.testRun.name, namespace: o.testRun.namespace, uid: o.testRun.uid },
    reason: o.reason,
    message: o.message.length > 1024 ? `${o.message.slice(0, 1023)}…` : o.message,
    type: o.type,
    source: { component: EVENT_COMPONENT },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: o.instance,
    firstTimestamp: time as unknown as Date,
    lastTimestamp: time as unknown as Date,
    count: 1,
  };
}
