/**
 * The App on Kubernetes, pure: what objects an App should have (`appChildren`), whether
 * a live one needs a write or is someone else's (`diffChild`), and the App's status from
 * what is there (`appStatusFromChildren`). The reconciler does the I/O.
 */
export {
  APP_COMPONENT_LABEL,
  APP_LABEL,
  INIT_SQL_HASH_LABEL,
  SPEC_HASH_ANNOTATION,
  VERSION_ANNOTATION,
  appChildLabels,
  appChildSelector,
  appOwnerReference,
  childKey,
  componentSelector,
  credentialsSecretName,
  initJobName,
  initSqlHash,
  type AppObject,
} from './app-child-meta.js';
export { appObjectFromResource, type AppResource } from './app-object.js';
export { appChildren, appliedInitSql, jobFailed, jobSucceeded, type AppChild, type AppChildrenOptions } from './app-children.js';
export { appStatusFromChildren, deploymentRolloutMessage, type AppObservation, type ChildProblem } from './app-status.js';
export { diffChild, isOwnedBy, ownershipConflict, type ChildDiff } from './child-diff.js';
export { CREDENTIAL_KEYS } from './database-env.js';
export { DEFAULT_DATABASE_STORAGE, INIT_JOB_BACKOFF_LIMIT } from './database-children.js';
export { serviceImage } from './service-children.js';
