/**
 * The TestRun custom resource a CRD-started run mirrors, as people look it up:
 * the kubectl commands the Run details page offers to copy.
 */
import type { K8sRef } from '../api/types';

/** Quotes an argument for a POSIX shell when it needs it (names are DNS labels, so it rarely does). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9._\/:=-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function kubectlCommands(ref: K8sRef): { get: string; describe: string } {
  const name = shellQuote(ref.name);
  const ns = shellQuote(ref.namespace);
  return {
    get: `kubectl get testrun ${name} -n ${ns}`,
    describe: `kubectl describe testrun ${name} -n ${ns}`,
  };
}
