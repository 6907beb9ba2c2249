/**
 * The objects an App should have, as a pure function of its spec: the reconciler
 * creates what is missing, updates what drifted (`diffChild`) and deletes children
 * (found by `appChildSelector`) that are no longer in this list.
 *
 * Order: per database its Secret, Service, StatefulSet, init ConfigMap and Job, then per
 * service its Service and Deployment — creating them in this order never leaves a Pod
 * waiting for a Secret or ConfigMap that comes later.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { AppStatus } from '../../core/app.js';
import { APP_COMPONENT_LABEL, INIT_SQL_HASH_LABEL, initSqlHash, type AppObject } from './app-child-meta.js';
import {
  databaseSecret,
  databaseService,
  databaseStatefulSet,
  initConfigMap,
  initJob,
  type DatabaseSecret,
  type DatabaseService,
  type DatabaseStatefulSet,
  type DatabaseStorageOptions,
  type InitConfigMap,
  type InitJob,
} from './database-children.js';
import { serviceDeployment, serviceService, type ServiceDeployment, type ServiceService } from './service-children.js';

/** A child object as built: apiVersion, kind, name, namespace and labels always set. */
export type AppChild = ServiceDeployment | ServiceService | DatabaseSecret | DatabaseService | DatabaseStatefulSet | InitConfigMap | InitJob;

export interface AppChildrenOptions extends DatabaseStorageOptions {
  /**
   * Per database name, the hash (`initSqlHash`) of the initSQL already applied to it
   * (see {@link appliedInitSql}). A database initialized with another SQL gets no init
   * Job: initSQL runs once, when the database is created; a change is reported, not run.
   */
  appliedInitSql?: Readonly<Record<string, string>>;
}

/** Every object App `app` should have. A service without `image` has none (its status says why). */
export function appChildren(app: AppObject, options: AppChildrenOptions = {}): AppChild[] {
  const out: AppChild[] = [];
  for (const db of app.spec.databases) {
    out.push(databaseSecret(app, db), databaseService(app, db), databaseStatefulSet(app, db, options));
    const applied = options.appliedInitSql?.[db.name];
    if (db.initSQL && (applied === undefined || applied === initSqlHash(db.initSQL))) {
      out.push(initConfigMap(app, db)!, initJob(app, db)!);
    }
  }
  for (const service of app.spec.services) {
    out.push(serviceService(app, service));
    const deployment = serviceDeployment(app, service);
    if (deployment) out.push(deployment);
  }
  return out;
}

/** True when a Job finished successfully (condition Complete, or a succeeded Pod counted). */
export function jobSucceeded(job: V1Job): boolean {
  return Boolean(job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) || (job.status?.succeeded ?? 0) > 0;
}

/** True when a Job gave up (condition Failed). */
export function jobFailed(job: V1Job): boolean {
  return Boolean(job.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True'));
}

/**
 * Which initSQL each database was initialized with: the hash the App's status records
 * (`status.databases[].initSQLHash`), else the one of a succeeded init Job of the App
 * (labels `topas.dev/component` and `topas.dev/init-sql-hash`). Pass the result as
 * `appliedInitSql` to {@link appChildren}.
 */
export function appliedInitSql(status: Pick<AppStatus, 'databases'> | null | undefined, jobs: readonly V1Job[]): Record<string, string> {
  const applied: Record<string, string> = {};
  const succeeded = jobs
    .filter((j) => jobSucceeded(j) && j.metadata?.labels?.[INIT_SQL_HASH_LABEL] && j.metadata.labels[APP_COMPONENT_LABEL])
    .sort((a, b) => (isoTime(a.status?.completionTime) ?? '').localeCompare(isoTime(b.status?.completionTime) ?? ''));
  for (const job of succeeded) {
    const db = job.metadata!.labels![APP_COMPONENT_LABEL]!;
    applied[db] ??= job.metadata!.labels![INIT_SQL_HASH_LABEL]!;
  }
  for (const d of status?.databases ?? []) if (d.initSQLHash) applied[d.name] = d.initSQLHash;
  return applied;
}

/** A time field as ISO text: typed `Date` by the client library, a string in the API's JSON. */
export function isoTime(value: Date | string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
