/**
 * What every child object of an `App` carries, so it can be found, owned and told apart:
 * the labels (`topas.dev/app`, `topas.dev/component` and the recommended
 * `app.kubernetes.io/*`), the owner reference to the App (deleting the App deletes its
 * children; a child whose controller is another object is not ours), the `spec-hash`
 * annotation, and the names of the children that are not simply the component's name.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/canonical-json.js';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { APP_API_VERSION, APP_KIND, type AppSpec, type AppStatus } from '../../core/app.js';
import { MANAGED_BY, MANAGED_BY_LABELS } from '../manifests/labels.js';

/** The App a child belongs to: `topas.dev/app: <name>`. */
export const APP_LABEL = 'topas.dev/app';
/** The service or database a child belongs to: `topas.dev/component: <name>`. */
export const APP_COMPONENT_LABEL = 'topas.dev/component';
/** On an init Job and its ConfigMap: the initSQL's hash (10 hex), so the applied SQL can be told from a changed one. */
export const INIT_SQL_HASH_LABEL = 'topas.dev/init-sql-hash';
/** On a child: a hash of the spec topas built it from; a changed spec has another hash. */
export const SPEC_HASH_ANNOTATION = 'topas.dev/spec-hash';
/** On a service's Pods: the service version they run (an annotation: a version need not be a valid label value). */
export const VERSION_ANNOTATION = 'topas.dev/version';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** The App as its children's builders need it: the resource's identity and spec. */
export interface AppObject {
  name: string;
  namespace: string;
  /** `metadata.uid`: the owner reference points at it. */
  uid: string;
  /** `metadata.generation`: conditions say which generation they describe. */
  generation: number;
  spec: AppSpec;
  /** The status last written (its conditions keep their `lastTransitionTime`, its databases their init record). */
  status?: AppStatus | null;
}

/** The labels of every child of App `app` that belongs to `component` (a service or database name). */
export function appChildLabels(app: string, component: string): Record<string, string> {
  return {
    ...MANAGED_BY_LABELS,
    [APP_LABEL]: app,
    [APP_COMPONENT_LABEL]: component,
    [NAME_LABEL]: component,
    [INSTANCE_LABEL]: app,
  };
}

/** A workload's selector (`matchLabels`): immutable, so it names only the App and the component. */
export function componentSelector(app: string, component: string): Record<string, string> {
  return { [APP_LABEL]: app, [APP_COMPONENT_LABEL]: component };
}

/** The label selector (`?labelSelector=`) that lists every child of App `app`. */
export function appChildSelector(app: string): string {
  return `${MANAGED_BY}=topas,${APP_LABEL}=${app}`;
}

/** The owner reference to the App: `controller: true`, `blockOwnerDeletion: true`. */
export function appOwnerReference(app: Pick<AppObject, 'name' | 'uid'>): V1OwnerReference {
  return { apiVersion: APP_API_VERSION, kind: APP_KIND, name: app.name, uid: app.uid, controller: true, blockOwnerDeletion: true };
}

/** The Secret with a database's credentials: `<app>-<database>-credentials`. */
export function credentialsSecretName(app: string, database: string): string {
  return `${app}-${database}-credentials`;
}

/** The first 10 hex digits of sha256(initSQL): names the init Job and ConfigMap, one per SQL content. */
export function initSqlHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 10);
}

/**
 * The init Job and its ConfigMap: `<database>-init-<hash>`. A Job's name must be a DNS
 * label (its Pods get it as a label value), so a database name longer than 47
 * characters is shortened to keep the whole within 63.
 */
export function initJobName(database: string, hash: string): string {
  const suffix = `-init-${hash}`;
  return `${database.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** A stable hash of a JSON value (object keys sorted): 16 hex digits. */
export function specHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}


/** Identifies a child within its App: `Kind/name`. Items of a list response carry no `kind`: pass it. */
export function childKey(obj: { kind?: string; metadata?: { name?: string } }, kind: string | undefined = obj.kind): string {
  return `${kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
}
