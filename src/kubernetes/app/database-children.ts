/**
 * A PostgreSQL database of an App on Kubernetes:
 * - Secret `<app>-<D>-credentials`: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB (what the
 *   postgres image reads) and their URL-encoded forms (for services' DATABASE_URL);
 * - StatefulSet `D` (one replica, serviceName `D`) with a `data` volume claim: a
 *   StatefulSet rather than a Deployment for its stable identity and a volume that
 *   survives Pod restarts, so "initSQL runs once" stays true; PGDATA is a subfolder of the
 *   volume (a fresh filesystem may hold `lost+found`, which initdb refuses); the claim is
 *   deleted with the StatefulSet (a database removed from the App loses its data, as locally);
 * - ClusterIP Service `D` on the database port;
 * - when initSQL is set: ConfigMap and Job `D-init-<hash>`. The Job's init container
 *   waits (`pg_isready` loop) until the database answers on its Service, so Job retries
 *   are kept for real failures; then `psql -v ON_ERROR_STOP=1 --single-transaction`
 *   applies the SQL file (one transaction, like the local runtime's single query: a
 *   failed init leaves nothing half-done). Pods are not restarted in place
 *   (`restartPolicy: Never`, `backoffLimit` 3) so each failed attempt keeps its log, and
 *   psql's error becomes the container's termination message.
 */
import type { V1ConfigMap, V1Container, V1EnvVar, V1Job, V1ObjectMeta, V1Probe, V1Secret, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { DatabaseSpec } from '../../core/app.js';
import {
  appChildLabels,
  appOwnerReference,
  componentSelector,
  credentialsSecretName,
  INIT_SQL_HASH_LABEL,
  initJobName,
  initSqlHash,
  SPEC_HASH_ANNOTATION,
  specHash,
  type AppObject,
} from './app-child-meta.js';
import { CREDENTIAL_KEYS, secretEnv } from './database-env.js';

/** Where the data volume is mounted, and PGDATA below it. */
export const DATABASE_PATHS = { volume: '/var/lib/postgresql/data', pgdata: '/var/lib/postgresql/data/pgdata', initSql: '/topas/init' } as const;
export const DATABASE_CONTAINER = 'postgres';
export const DATABASE_PORT_NAME = 'postgres';
export const INIT_CONTAINER = 'init-sql';
export const WAIT_CONTAINER = 'wait-for-database';
export const INIT_SQL_FILE = 'init.sql';
/** Failed init Pods retried before the Job fails (psql errors are rarely transient). */
export const INIT_JOB_BACKOFF_LIMIT = 3;
export const DEFAULT_DATABASE_STORAGE = '1Gi';

type Named<T> = T & { apiVersion: string; kind: string; metadata: V1ObjectMeta & { name: string; namespace: string; labels: Record<string, string> } };
export type DatabaseSecret = Named<V1Secret> & { data: Record<string, string> };
export type DatabaseStatefulSet = Named<V1StatefulSet>;
export type DatabaseService = Named<V1Service>;
export type InitConfigMap = Named<V1ConfigMap>;
export type InitJob = Named<V1Job>;

export interface DatabaseStorageOptions {
  /** The data volume's size; default {@link DEFAULT_DATABASE_STORAGE}. */
  storage?: string;
  /** The claim's storage class; default the cluster's. */
  storageClassName?: string;
}

function metadata(app: AppObject, name: string, component: string, extraLabels: Record<string, string> = {}) {
  return { name, namespace: app.namespace, labels: { ...appChildLabels(app.name, component), ...extraLabels }, ownerReferences: [appOwnerReference(app)] };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The credentials Secret (values base64 in `data`, as the API server returns them, so a live one compares equal). */
export function databaseSecret(app: AppObject, db: DatabaseSpec): DatabaseSecret {
  const { user, password, dbname } = db.credentials;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(app, credentialsSecretName(app.name, db.name), db.name),
    type: 'Opaque',
    data: {
      [CREDENTIAL_KEYS.user]: b64(user),
      [CREDENTIAL_KEYS.password]: b64(password),
      [CREDENTIAL_KEYS.dbname]: b64(dbname),
      [CREDENTIAL_KEYS.userEncoded]: b64(encodeURIComponent(user)),
      [CREDENTIAL_KEYS.passwordEncoded]: b64(encodeURIComponent(password)),
      [CREDENTIAL_KEYS.dbnameEncoded]: b64(encodeURIComponent(dbname)),
    },
  };
}

/** Ready when the server accepts connections on the Pod's address (not 127.0.0.1: Pods may share a network). */
export function databaseReadinessProbe(): V1Probe {
  return {
    exec: { command: ['sh', '-c', 'exec pg_isready -q -h "${POD_IP:-127.0.0.1}" -p "$PGPORT" -U "$POSTGRES_USER" -d "$POSTGRES_DB"'] },
    periodSeconds: 2,
    timeoutSeconds: 2,
    successThreshold: 1,
    failureThreshold: 3,
  };
}

/** The database's StatefulSet: one postgres Pod with its data on the `data` claim. */
export function databaseStatefulSet(app: AppObject, db: DatabaseSpec, options: DatabaseStorageOptions = {}): DatabaseStatefulSet {
  const env: V1EnvVar[] = [
    secretEnv('POSTGRES_USER', app.name, db.name, CREDENTIAL_KEYS.user),
    secretEnv('POSTGRES_PASSWORD', app.name, db.name, CREDENTIAL_KEYS.password),
    secretEnv('POSTGRES_DB', app.name, db.name, CREDENTIAL_KEYS.dbname),
    // The postgres image refuses an empty password unless told to trust connections.
    ...(db.credentials.password ? [] : [{ name: 'POSTGRES_HOST_AUTH_METHOD', value: 'trust' }]),
    { name: 'PGDATA', value: DATABASE_PATHS.pgdata },
    { name: 'PGPORT', value: String(db.port) },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  ];
  const container: V1Container = {
    name: DATABASE_CONTAINER,
    image: db.image,
    env,
    ports: [{ name: DATABASE_PORT_NAME, containerPort: db.port, protocol: 'TCP' }],
    volumeMounts: [{ name: 'data', mountPath: DATABASE_PATHS.volume }],
    readinessProbe: databaseReadinessProbe(),
  };
  const spec: V1StatefulSet['spec'] = {
    replicas: 1,
    serviceName: db.name,
    selector: { matchLabels: componentSelector(app.name, db.name) },
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    template: {
      metadata: { labels: appChildLabels(app.name, db.name) },
      spec: { enableServiceLinks: false, containers: [container] },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data', labels: appChildLabels(app.name, db.name) },
        spec: {
          accessModes: ['ReadWriteOnce'],
          ...(options.storageClassName ? { storageClassName: options.storageClassName } : {}),
          resources: { requests: { storage: options.storage ?? DEFAULT_DATABASE_STORAGE } },
        },
      },
    ],
  };
  const meta = metadata(app, db.name, db.name);
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { ...meta, annotations: { [SPEC_HASH_ANNOTATION]: specHash(spec) } }, spec };
}

/** The database's ClusterIP Service, port `postgres`. */
export function databaseService(app: AppObject, db: DatabaseSpec): DatabaseService {
  const spec: V1Service['spec'] = {
    type: 'ClusterIP',
    selector: componentSelector(app.name, db.name),
    ports: [{ name: DATABASE_PORT_NAME, port: db.port, targetPort: db.port, protocol: 'TCP' }],
  };
  const meta = metadata(app, db.name, db.name);
  return { apiVersion: 'v1', kind: 'Service', metadata: { ...meta, annotations: { [SPEC_HASH_ANNOTATION]: specHash(spec) } }, spec };
}

/** The ConfigMap with the initSQL (key `init.sql`); null without initSQL. */
export function initConfigMap(app: AppObject, db: DatabaseSpec): InitConfigMap | null {
  if (!db.initSQL) return null;
  const hash = initSqlHash(db.initSQL);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(app, initJobName(db.name, hash), db.name, { [INIT_SQL_HASH_LABEL]: hash }),
    data: { [INIT_SQL_FILE]: db.initSQL },
  };
}

/** libpq's env for the database's Service, credentials from the Secret. */
function clientEnv(app: AppObject, db: DatabaseSpec): V1EnvVar[] {
  return [
    { name: 'PGHOST', value: db.name },
    { name: 'PGPORT', value: String(db.port) },
    secretEnv('PGUSER', app.name, db.name, CREDENTIAL_KEYS.user),
    ...(db.credentials.password ? [secretEnv('PGPASSWORD', app.name, db.name, CREDENTIAL_KEYS.password)] : []),
    secretEnv('PGDATABASE', app.name, db.name, CREDENTIAL_KEYS.dbname),
    { name: 'PGCONNECT_TIMEOUT', value: '5' },
  ];
}

/** The one-time init Job (see the file comment); null without initSQL. */
export function initJob(app: AppObject, db: DatabaseSpec): InitJob | null {
  if (!db.initSQL) return null;
  const hash = initSqlHash(db.initSQL);
  const name = initJobName(db.name, hash);
  const labels = { ...appChildLabels(app.name, db.name), [INIT_SQL_HASH_LABEL]: hash };
  const env = clientEnv(app, db);
  const spec: V1Job['spec'] = {
    backoffLimit: INIT_JOB_BACKOFF_LIMIT,
    template: {
      metadata: { labels },
      spec: {
        restartPolicy: 'Never',
        enableServiceLinks: false,
        initContainers: [
          {
            name: WAIT_CONTAINER,
            image: db.image,
            env,
            // A query as the App's user, not only pg_isready: a server still starting (or the
            // image's temporary init server) answers pings but refuses sessions.
            command: ['sh', '-c', 'until pg_isready -q && psql --no-psqlrc -Atqc "SELECT 1" >/dev/null 2>&1; do echo "waiting for $PGHOST:$PGPORT"; sleep 1; done'],
          },
        ],
        containers: [
          {
            name: INIT_CONTAINER,
            image: db.image,
            env,
            command: ['psql', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '--single-transaction', '-f', `${DATABASE_PATHS.initSql}/${INIT_SQL_FILE}`],
            volumeMounts: [{ name: 'init-sql', mountPath: DATABASE_PATHS.initSql, readOnly: true }],
            terminationMessagePolicy: 'FallbackToLogsOnError',
          },
        ],
        volumes: [{ name: 'init-sql', configMap: { name } }],
      },
    },
  };
  const meta = metadata(app, name, db.name, { [INIT_SQL_HASH_LABEL]: hash });
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { ...meta, annotations: { [SPEC_HASH_ANNOTATION]: specHash(spec) } }, spec };
}
