/** The owner reference that ties a run's objects to their TestRun, so deleting it deletes them. */
import { TESTRUN_API_VERSION, TESTRUN_KIND } from '../../core/testrun.js';

/** The TestRun a run's objects belong to (a run from the API has none). */
export interface TestRunOwner {
  name: string;
  uid: string;
}

/** `controller: true` (the TestRun manages them) and `blockOwnerDeletion` (foreground deletion waits for them). */
export function testRunOwnerReferences(owner: TestRunOwner | undefined) {
  if (!owner) return undefined;
  return [{ apiVersion: TESTRUN_API_VERSION, kind: TESTRUN_KIND, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }];
}
