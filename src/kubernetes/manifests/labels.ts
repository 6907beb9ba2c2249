/** The labels topas puts on every object it creates, so `kubectl get -l` finds them. */

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const RUN_ID_LABEL = 'topas.dev/run-id';
export const TESTRUN_LABEL = 'topas.dev/testrun';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

/** `app.kubernetes.io/managed-by: topas`. */
export const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { [MANAGED_BY]: 'topas' };

/** The labels of a run's objects (ConfigMap, Secret, Pod): its id and, for a TestRun's run, the TestRun's name. */
export function runLabels(runId: string, testRunName?: string): Record<string, string> {
  return {
    ...MANAGED_BY_LABELS,
    [RUN_ID_LABEL]: runId,
    ...(testRunName ? { [TESTRUN_LABEL]: testRunName } : {}),
  };
}
