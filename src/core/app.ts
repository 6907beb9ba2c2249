/**
 * The `App`: the system under test, declared once. The same spec is stored by the
 * embedded platform (run as local processes) and, on Kubernetes, is the `App` custom
 * resource's spec (reconciled into Deployments and Services). The zod schema below is
 * the one source of truth: it validates input (errors name the field, e.g.
 * `spec.services[1].port: must be an integer from 1 to 65535, got 0`) and is turned
 * into JSON Schema for the REST API and the CRD.
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { envSchema } from './schemas/env.js';
import { fieldIssues, fieldPath } from './schemas/issues.js';
import { LabelsSchema, labelKeyProblem } from './schemas/labels.js';
import { AppNameSchema, dnsLabel } from './schemas/names.js';
import { got, intRange, key, string, text, textUpTo } from './schemas/text.js';

export { fieldPath };

export const APP_API_VERSION = 'topas.dev/v1alpha1';
export const APP_KIND = 'App';

const port = () => intRange(1, 65535);

const EnvMapSchema = envSchema(' (quote numbers in YAML)');

/** When a replica counts as ready: an HTTP GET answering 2xx/3xx, or a TCP connect. */
export const ReadinessProbeSchema = z
  .strictObject(
    {
      httpGet: z.strictObject({ path: text(2048).regex(/^\//, { error: 'must start with "/"' }), port: text(63).optional() }).optional(),
      tcpSocket: z.strictObject({ port: text(63).optional() }).optional(),
      /** How often to probe, seconds (default 1; locally probes are cheap). */
      periodSeconds: z.number().positive({ error: 'must be a positive number of seconds' }).max(300).optional(),
      /** One probe's time limit, seconds (default 1). */
      timeoutSeconds: z.number().positive({ error: 'must be a positive number of seconds' }).max(60).optional(),
    },
    { error: (iss) => `must be an object with httpGet or tcpSocket, got ${got(iss.input)}` },
  )
  .refine((p) => Boolean(p.httpGet) !== Boolean(p.tcpSocket), { error: 'must have exactly one of httpGet or tcpSocket' });

/**
 * How to run a service as local processes (the embedded platform). `${port}` is the
 * replica's own port, `${port.NAME}` its port for an extra named port, `${version}`
 * the service version; they are substituted in `command`, `env` and `envVars`.
 */
export const LocalRunSchema = z.strictObject({
  command: z
    .array(text(4096), { error: (iss) => `must be a list of strings (program and arguments), got ${got(iss.input)}` })
    .min(1, { error: 'must name a program to run' })
    .meta({ description: 'Program and arguments; `${port}`, `${port.NAME}` and `${version}` are substituted.', example: ['node', 'server.js', '--port', '${port}'] }),
  cwd: text(4096).optional().meta({ description: 'Working folder, relative to the App file (or absolute).' }),
  env: EnvMapSchema.optional().meta({ description: "Extra environment of the service's local processes." }),
  readinessProbe: ReadinessProbeSchema.optional().meta({ description: 'When a replica counts as ready; default a TCP connect to its port.' }),
});

/** An extra port a service answers on besides `port` (a Kubernetes ServicePort), e.g. gRPC. */
export const NamedPortSchema = z.strictObject({
  name: dnsLabel('port'),
  port: port(),
});

export const ServiceSpecSchema = z.strictObject({
  name: dnsLabel('service').meta({ description: 'The service\'s host name in tests; unique among services and databases.', example: 'users' }),
  image: text(1024).optional().meta({ description: 'Container image; used on Kubernetes, informational locally.' }),
  version: text(128).meta({ description: 'The version to run; `${version}` in commands and env.', example: 'v1' }),
  replicas: intRange(0, 100).default(1).meta({ description: 'Processes (pods) behind the service, 0..100; 0 stops it.' }),
  port: port().meta({ description: 'The port the service answers on (its Kubernetes Service port).', example: 8080 }),
  ports: z.array(NamedPortSchema).max(10).optional().meta({ description: 'Extra named ports (a Kubernetes ServicePort each), e.g. gRPC.' }),
  envVars: EnvMapSchema.optional().meta({ description: "Environment of the service's processes (also on Kubernetes)." }),
  local: LocalRunSchema.optional().meta({ description: 'How to run the service as local processes (the embedded platform).' }),
});

export const DatabaseSpecSchema = z.strictObject({
  name: dnsLabel('database').meta({ description: "The database's host name in tests; unique among services and databases.", example: 'users-db' }),
  image: text(1024).default('postgres:16-alpine').meta({ description: 'On Kubernetes the image; locally informational (PostgreSQL is used).' }),
  port: port().default(5432).meta({ description: 'The port tests connect to.' }),
  credentials: z
    .strictObject(
      { user: text(63), password: textUpTo(256).default(''), dbname: text(63) },
      { error: (iss) => `must be an object with user, password and dbname, got ${got(iss.input)}` },
    )
    .meta({ description: 'The user, password and database name tests and services connect with.' }),
  initSQL: textUpTo(1024 * 1024).optional().meta({ description: 'DDL applied once, when the database is first created (at most 1 MiB).' }),
});

export const AppSpecSchema = z
  .strictObject(
    {
      services: z
        .array(ServiceSpecSchema, { error: (iss) => `must be a list of services, got ${got(iss.input)}` })
        .max(50)
        .default([])
        .meta({ description: 'The services of the App (at most 50).' }),
      databases: z
        .array(DatabaseSpecSchema, { error: (iss) => `must be a list of databases, got ${got(iss.input)}` })
        .max(10)
        .default([])
        .meta({ description: 'Its PostgreSQL databases (at most 10).' }),
    },
    { error: (iss) => `must be an object with services and databases, got ${got(iss.input)}` },
  )
  .superRefine((spec, ctx) => {
    const seen = new Map<string, string>();
    const claim = (name: string, path: (string | number)[]) => {
      const earlier = seen.get(name);
      if (earlier) ctx.addIssue({ code: 'custom', path, message: `"${name}" is already the name of spec.${earlier}; service and database names share one namespace (they are host names)` });
      else seen.set(name, `${String(path[0])}[${String(path[1])}]`);
    };
    spec.services.forEach((s, i) => {
      claim(s.name, ['services', i, 'name']);
      const names = new Set<string>();
      s.ports?.forEach((p, j) => {
        if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'ports', j, 'name'], message: `port name "${p.name}" is used twice` });
        if (p.port === s.port) ctx.addIssue({ code: 'custom', path: ['services', i, 'ports', j, 'port'], message: `is already the service's main port` });
        names.add(p.name);
      });
    });
    spec.databases.forEach((d, i) => claim(d.name, ['databases', i, 'name']));
  });

/** Annotations: label-style keys, any text values, at most 256 KiB in all (as Kubernetes). */
const AnnotationsSchema = z
  .record(
    key().superRefine((k, ctx) => {
      const problem = labelKeyProblem(k);
      if (problem) ctx.addIssue({ code: 'custom', message: problem.replace('label key', 'annotation key'), input: k });
    }),
    string(),
    { error: (iss) => `must be an object of key: "value" pairs, got ${got(iss.input)}` },
  )
  .superRefine((annotations, ctx) => {
    const bytes = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (bytes > 256 * 1024) ctx.addIssue({ code: 'custom', message: `must total at most 262144 bytes, got ${bytes}`, input: annotations });
  });

/**
 * Metadata as applied. `generation` and `creationTimestamp` are set by topas: they
 * are accepted (so what `app get -o yaml` shows can be applied again) and ignored.
 */
export const AppMetadataSchema = z.strictObject(
  {
    name: AppNameSchema,
    namespace: text(63).optional(),
    labels: LabelsSchema.optional(),
    annotations: AnnotationsSchema.optional(),
    generation: z.unknown().optional().meta({ description: 'Set by topas; ignored on apply.' }),
    creationTimestamp: z.unknown().optional().meta({ description: 'Set by topas; ignored on apply.' }),
  },
  { error: (iss) => `must be an object with name, got ${got(iss.input)}` },
);

/** What a user applies: the App manifest as `kubectl apply` takes it. Unknown fields are refused at every level. */
export const AppManifestSchema = z.strictObject(
  {
    apiVersion: z.literal(APP_API_VERSION, { error: (iss) => `must be "${APP_API_VERSION}", got ${got(iss.input)}` }),
    kind: z.literal(APP_KIND, { error: (iss) => `must be "${APP_KIND}", got ${got(iss.input)}` }),
    metadata: AppMetadataSchema,
    spec: AppSpecSchema,
    status: z.unknown().optional().meta({ description: 'Set by topas; ignored on apply.' }),
  },
  { error: (iss) => `must be an App manifest (an object with apiVersion, kind, metadata and spec), got ${got(iss.input)}` },
);

/**
 * The body of `PUT /api/apps/{name}`: a manifest whose `apiVersion`, `kind` and
 * `metadata` may be left out (the name comes from the path).
 */
export const AppApplySchema = AppManifestSchema.extend({
  apiVersion: AppManifestSchema.shape.apiVersion.optional(),
  kind: AppManifestSchema.shape.kind.optional(),
  metadata: AppMetadataSchema.partial().optional(),
});

export type ReadinessProbe = z.infer<typeof ReadinessProbeSchema>;
export type LocalRun = z.infer<typeof LocalRunSchema>;
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
export type DatabaseSpec = z.infer<typeof DatabaseSpecSchema>;
export type AppSpec = z.infer<typeof AppSpecSchema>;
export type AppManifest = z.infer<typeof AppManifestSchema>;

/** A standard Kubernetes `metav1.Condition`. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/** Where a service or database answers on this machine (locally: 127.0.0.1 and a free port). */
export interface Endpoint {
  host: string;
  port: number;
}

export interface ServiceStatus {
  name: string;
  version: string;
  /** Desired replicas. */
  replicas: number;
  readyReplicas: number;
  /** Replicas running the current spec (version, env, command...): equals `replicas` when a rollout is finished. */
  updatedReplicas?: number;
  /** Replicas ready for long enough to serve (Kubernetes: the Deployment's `availableReplicas`). */
  availableReplicas?: number;
  /** Replica processes restarted after exiting (self-healing), since the service was created. */
  restarts: number;
  /** Main port's endpoint; null until the service's balancer listens. */
  endpoint: Endpoint | null;
  /** Extra named ports' endpoints. */
  ports?: Record<string, Endpoint>;
  /** Per replica: index, pid, ready, restarts, last exit. */
  replicaStatuses?: ReplicaStatus[];
  /** `CrashLoopBackOff` when every replica of the current spec keeps exiting early and none is ready: it will not become ready by itself. */
  reason?: 'CrashLoopBackOff';
  /** Why the service is not ready (yet), e.g. `replica 0 exited with code 1: <its last line> (restarted 3 times)`; absent once it is. */
  message?: string;
}

export interface ReplicaStatus {
  index: number;
  pid: number | null;
  ready: boolean;
  restarts: number;
  version: string;
  /** How its last process ended: `exited with code 1: <its last line>`. */
  lastExit: string | null;
  /** The last lines (up to 10) its last exited process printed. */
  lastLog?: string[];
}

export interface DatabaseStatus {
  name: string;
  ready: boolean;
  endpoint: Endpoint | null;
  /** `postgresql` (a local server) or `pglite` (embedded, served over the wire: one session at a time). */
  engine: 'postgresql' | 'pglite';
  /** When the initSQL was applied (once, when the database was created). */
  initializedAt: string | null;
  /** Kubernetes: the hash (first 10 hex of sha256) of the initSQL that was applied, so a changed one is not run again. */
  initSQLHash?: string;
  message?: string;
}

export interface AppStatus {
  observedGeneration: number;
  services: ServiceStatus[];
  databases: DatabaseStatus[];
  conditions: Condition[];
  /** Ready over desired, for `kubectl get apps` (Kubernetes): services `2/2` (ready/all), databases `1/1`. */
  summary?: AppStatusSummary;
}

export interface AppStatusSummary {
  services: string;
  databases: string;
}

/** An App as stored and served: the manifest plus server-set metadata and status. */
export interface App {
  apiVersion: typeof APP_API_VERSION;
  kind: typeof APP_KIND;
  metadata: {
    name: string;
    /** Bumped by every change of the spec. */
    generation: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: AppSpec;
  status: AppStatus;
}

/** Validates an App manifest (parsed YAML/JSON); throws ValidationError naming every bad field. */
export function parseAppManifest(input: unknown): AppManifest {
  const result = AppManifestSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error));
  return result.data;
}

/** Validates an App name (e.g. from a URL path); throws ValidationError naming `field`. */
export function parseAppName(input: unknown, field = 'name'): string {
  const result = AppNameSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error, { prefix: [field] }));
  return result.data;
}

/** Validates a bare spec (the REST API's PUT body may be a manifest or `{ spec }`). */
export function parseAppSpec(input: unknown, prefix: (string | number)[] = ['spec']): AppSpec {
  const result = AppSpecSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error, { prefix }));
  return result.data;
}

/** Validates one service (as `sut.apply_service` builds it). */
export function parseServiceSpec(input: unknown, prefix: (string | number)[]): ServiceSpec {
  const result = ServiceSpecSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error, { prefix }));
  return result.data;
}

/** True when a condition is present with status "True". */
export function isConditionTrue(status: Pick<AppStatus, 'conditions'> | null | undefined, type: string): boolean {
  return status?.conditions.some((c) => c.type === type && c.status === 'True') ?? false;
}

/**
 * Sets a condition, keeping `lastTransitionTime` when the status did not change
 * (as `meta.SetStatusCondition` does).
 */
export function setCondition(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const current = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = current && current.status === next.status ? current.lastTransitionTime : now;
  const updated: Condition = { ...next, lastTransitionTime };
  return current ? conditions.map((c) => (c.type === next.type ? updated : c)) : [...conditions, updated];
}

/** The env a service's processes get from the App: `DATABASE_URL` (first database) and `DATABASE_URL_<NAME>` per database. */
export function databaseUrlEnv(databases: { name: string; url: string }[]): Record<string, string> {
  const env: Record<string, string> = {};
  databases.forEach((d, i) => {
    if (i === 0) env.DATABASE_URL = d.url;
    env[`DATABASE_URL_${d.name.toUpperCase().replace(/-/g, '_')}`] = d.url;
  });
  return env;
}

/** `postgres://user:password@host:port/dbname`, escaped. */
export function postgresUrl(credentials: DatabaseSpec['credentials'], endpoint: Endpoint): string {
  const auth = credentials.password ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}` : encodeURIComponent(credentials.user);
  return `postgres://${auth}@${endpoint.host}:${endpoint.port}/${encodeURIComponent(credentials.dbname)}`;
}

/**
 * Substitutes `${port}`, `${port.NAME}` and `${version}` in a command argument or env
 * value. Unknown `${...}` are left as they are (a shell-looking value stays intact).
 */
export function substitute(text: string, vars: { port: number; ports: Record<string, number>; version: string }): string {
  return text.replace(/\$\{(port|version|port\.([a-z0-9-]+))\}/g, (whole, key: string, portName?: string) => {
    if (key === 'version') return vars.version;
    if (key === 'port') return String(vars.port);
    const p = portName ? vars.ports[portName] : undefined;
    return p === undefined ? whole : String(p);
  });
}

/** An App as the store keeps it. */
export interface AppRecord {
  name: string;
  generation: number;
  spec: AppSpec;
  /** The last status the controller wrote; null before the first reconcile. */
  status: AppStatus | null;
  /** The folder relative `local.cwd` paths resolve against (the App file's folder). */
  baseDir: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

/** What applying an App stores. */
export interface NewApp {
  name: string;
  spec: AppSpec;
  baseDir?: string | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /**
   * The generation to store, when something else keeps the App's record (on Kubernetes
   * the App resource: the stored copy carries the resource's generation). Unset: the
   * store bumps its own generation when the spec changes.
   */
  generation?: number;
}

/** The status of an App nobody has reconciled yet. */
export function pendingStatus(record: Pick<AppRecord, 'generation' | 'spec'>): AppStatus {
  return {
    observedGeneration: 0,
    services: record.spec.services.map((s) => ({ name: s.name, version: s.version, replicas: s.replicas, readyReplicas: 0, restarts: 0, endpoint: null })),
    databases: record.spec.databases.map((d) => ({ name: d.name, ready: false, endpoint: null, engine: 'postgresql', initializedAt: null })),
    conditions: [],
  };
}

/** The stored record as the API and CLI show it: a Kubernetes-style object. */
export function toAppResource(record: AppRecord): App {
  return {
    apiVersion: APP_API_VERSION,
    kind: APP_KIND,
    metadata: {
      name: record.name,
      generation: record.generation,
      creationTimestamp: record.createdAt,
      ...(Object.keys(record.labels).length ? { labels: record.labels } : {}),
      ...(Object.keys(record.annotations).length ? { annotations: record.annotations } : {}),
    },
    spec: record.spec,
    status: record.status ?? pendingStatus(record),
  };
}

const EndpointSchema = z.object({ host: z.string(), port: z.number().int() });

/** The status shape, for the REST API's and the CRD's schemas (the interfaces above are what code uses). */
export const AppStatusSchema = z.object({
  observedGeneration: z.number().int().describe('The spec generation the status describes.'),
  services: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      replicas: z.number().int().describe('Desired replicas.'),
      readyReplicas: z.number().int(),
      updatedReplicas: z.number().int().optional().describe('Replicas running the current spec.'),
      availableReplicas: z.number().int().optional().describe('Replicas ready for long enough to serve.'),
      restarts: z.number().int().describe('Replica processes restarted after they exited (self-healing).'),
      endpoint: EndpointSchema.nullable().describe('Where the service answers on this machine.'),
      ports: z.record(z.string(), EndpointSchema).optional(),
      replicaStatuses: z
        .array(
          z.object({
            index: z.number().int(),
            pid: z.number().int().nullable(),
            ready: z.boolean(),
            restarts: z.number().int(),
            version: z.string(),
            lastExit: z.string().nullable().describe('How its last process ended, with its last line.'),
            lastLog: z.array(z.string()).optional().describe('The last lines (up to 10) its last exited process printed.'),
          }),
        )
        .optional(),
      reason: z.literal('CrashLoopBackOff').optional().describe('Every replica of the current spec keeps exiting early and none is ready: it will not become ready by itself.'),
      message: z.string().optional().describe('Why the service is not ready (yet); absent once it is.'),
    }),
  ),
  databases: z.array(
    z.object({
      name: z.string(),
      ready: z.boolean(),
      endpoint: EndpointSchema.nullable(),
      engine: z.enum(['postgresql', 'pglite']),
      initializedAt: z.string().nullable().describe('When initSQL was applied (once).'),
      initSQLHash: z.string().optional().describe('The first 10 hex digits of sha256 of the initSQL that was applied.'),
      message: z.string().optional(),
    }),
  ),
  conditions: z.array(
    z.object({
      type: z.string().describe('Ready, Progressing or Degraded.'),
      status: z.enum(['True', 'False', 'Unknown']),
      reason: z.string(),
      message: z.string(),
      lastTransitionTime: z.string(),
      observedGeneration: z.number().int(),
    }),
  ),
  summary: z
    .object({
      services: z.string().describe('Ready services over all, e.g. 2/2.'),
      databases: z.string().describe('Ready databases over all, e.g. 1/1.'),
    })
    .optional()
    .describe('Counts for `kubectl get apps`.'),
});

/** An App as the API returns it. */
export const AppSchema = z.object({
  apiVersion: z.literal(APP_API_VERSION),
  kind: z.literal(APP_KIND),
  metadata: z.object({
    name: z.string(),
    generation: z.number().int(),
    creationTimestamp: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: AppSpecSchema,
  status: AppStatusSchema,
});
