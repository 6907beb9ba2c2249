import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { MACHINE_MEMORY_SHARE, parseCpuQuantity, parseMemoryQuantity, type ProfileBudget } from '../core/resource-profile.js';
import { isIPv6 } from 'node:net';
import { ValidationError, type FieldIssue } from '../core/errors.js';
import { DEFAULT_FLAKY_WINDOW } from '../core/test-summary.js';
import { EGRESS_SETTING, parseEgressAllow, type EgressPolicy } from '../runner/egress-policy.js';
import { LOG_LEVELS, type LogLevel } from '../core/logger.js';
import { DEFAULT_STATEMENT_CACHE } from '../store/pg-statements.js';
import type { CategoryRules } from '../core/categories.js';
import { CategoriesFileError, readCategoriesFile } from './categories-file.js';
import { MAX_RETENTION_DAYS, describeDays, parseRetentionOverrides, type RetentionPolicy } from '../core/retention.js';

/** Everything `topas up` needs, read once at start-up and passed down. */
export interface TopasConfig {
  /**
   * The failure-category rules file (`--categories FILE` / `TOPAS_CATEGORIES_FILE`),
   * read and validated here, once. When given, its rules are stored at start-up if they
   * differ from the stored ones: the file wins over edits made through the API since
   * the last start. Null: the stored rules (or the shipped defaults) stay.
   */
  categories: { file: string; rules: CategoryRules } | null;
  /** Interface to listen on. Default 127.0.0.1. */
  host: string;
  /** Port to listen on; 0 picks a free one. Default 4000. */
  port: number;
  /** Folder for the embedded database and other local state. Default ./.topas */
  dataDir: string;
  /** PostgreSQL URL; when set, used instead of the embedded PGlite database. */
  databaseUrl: string | null;
  /**
   * The one global limit on runs executing at once. Default `defaultConcurrency`: 50 (tests
   * mostly wait on I/O), fewer when 50 runs at their memory cap would take more than half
   * of the machine's memory.
   */
  concurrency: number;
  /** Load and run the bundled example tests at start-up. Default true. */
  examples: boolean;
  /** Timeout of runs that do not set one. Default 600. */
  defaultTimeoutSeconds: number;
  /** Memory cap of one run's Lua state. Default 64 MiB. */
  memoryLimitMb: number;
  /** Lua worker threads of the local executor. Default: CPU cores. */
  workers: number;
  /**
   * `TOPAS_READ_CONCURRENCY`: shared API reads (run list, run, stats) that may use the
   * database at once; the others wait their turn (`server/read-cache.ts`). Default
   * `defaultReadConcurrency`: 4 embedded; on PostgreSQL one per two CPU cores.
   */
  readConcurrency: number;
  /**
   * `TOPAS_DATABASE_STATEMENT_CACHE`: statements each PostgreSQL connection keeps prepared
   * (parsed and planned once, `store/pg-statements.ts`). Default 256; 0 for a PgBouncer in
   * transaction mode before 1.21. Embedded (PGlite) statements are always prepared.
   */
  databaseStatementCache: number;
  /** This process's identity as an executor owner. */
  instanceId: string;
  /**
   * How Apps' databases run: `auto` (a local PostgreSQL server when installed, else
   * PGlite), `postgresql` or `pglite`. Default auto.
   */
  appDatabases: AppDatabaseEngine;
  /**
   * Every API call needs a token (default true). `--insecure-no-auth` /
   * `TOPAS_INSECURE_NO_AUTH=1` turn it off; the Host, Origin and JSON-body checks stay on.
   */
  auth: boolean;
  /**
   * Extra `Host` names the server answers besides localhost, 127.0.0.1 and [::1]
   * (`--allowed-host`, repeatable, or `TOPAS_ALLOWED_HOSTS`, a comma list): lower-case
   * host names or IP addresses, without port (a bare IPv6 address is bracketed: `fd00::1` →
   * `[fd00::1]`). Also the origins state-changing requests may come from.
   */
  allowedHosts: string[];
  /**
   * `TOPAS_ADMIN_TOKEN`: an admin token secret chosen by the operator (several
   * instances on one database share it); its hash is stored as an admin token at start.
   * Null: the first start creates one and writes it to `<dataDir>/admin-token`.
   */
  adminToken: string | null;
  /**
   * Where tests may connect (`TOPAS_EGRESS_ALLOW`: hosts, `*.domain`, IPs, CIDRs). Default
   * unrestricted, except cloud metadata addresses, which are refused always.
   */
  egress: EgressPolicy;
  /**
   * Git sources may use `file://` URLs, which read this machine's disk
   * (`--git-allow-file` or `TOPAS_GIT_ALLOW_FILE=1`). Default false: refused.
   */
  gitAllowFile: boolean;
  /** Least severe entry of topas's own log that is written (to stderr). Default info. */
  logLevel: LogLevel;
  /** `text` (readable) or `json` (one object per line, for log collectors). Default text. */
  logFormat: LogFormat;
  /**
   * `TOPAS_FLAKY_WINDOW`: how many of a test's last outcomes its flakiness and pass rate
   * are judged on (flaky: flipped Passed↔Failed at least twice in them). 2..100, default 30.
   */
  flakyWindow: number;
  /**
   * `--kubernetes` / `TOPAS_KUBERNETES=1`: runs execute as runner Pods and `TestRun`
   * resources are reconciled. Null: embedded only (the default; nothing touches Kubernetes).
   */
  kubernetes: KubernetesConfig | null;
  /**
   * The CPU and memory runs may use at once, for the parallelism recommendation
   * (`GET /api/insights/profile`): `TOPAS_PROFILE_BUDGET_CPU` (cores, `4` or `3500m`) and
   * `TOPAS_PROFILE_BUDGET_MEMORY` (`8Gi`, `512Mi`, bytes). Defaults: this machine's cores
   * and half its memory.
   */
  profileBudget: ProfileBudget;
  /**
   * How long finished runs and their logs are kept (`core/retention.ts`):
   * `--retention-days` / `TOPAS_RETENTION_DAYS`, `--retention label=value:days` (repeatable) /
   * `TOPAS_RETENTION_OVERRIDES` (a comma list), `--log-retention-days` / `TOPAS_LOG_RETENTION_DAYS`.
   * Default: everything is kept forever.
   */
  retention: RetentionPolicy;
  /** `TOPAS_REPORT_MAX_MB`: the largest report upload (`POST /api/reports`, all its files together). Default 200. */
  reportMaxMb?: number;
  /**
   * `--nats URL` / `TOPAS_NATS_URL`: runs are published to a NATS JetStream work queue and
   * executed by `topas worker --nats` processes (docs/nats.md). Null: not used (the default).
   */
  nats?: NatsConfig | null;
}

/** How topas hands runs to executor workers over NATS JetStream (`topas up --nats`). */
export interface NatsConfig {
  /** `nats://host:4222` (credentials as `nats://user:pass@host:4222`). */
  url: string;
  /** `--nats-stream` / `TOPAS_NATS_STREAM`: the JetStream stream. Default `TOPAS_RUNS`. */
  stream: string;
  /** `--nats-subject` / `TOPAS_NATS_SUBJECT`: the subject prefix; a run's message goes to `<subject>.<runId>`. Default `topas.runs`. */
  subject: string;
  /**
   * `--runner-server-url` / `TOPAS_RUNNER_SERVER_URL`: the URL workers reach this server at
   * (workers on other machines need a routable one). Null: the server's own URL.
   */
  serverUrl: string | null;
  /**
   * `TOPAS_NATS_LOST_AFTER_SECONDS`: a started run whose worker is silent this long (no
   * heartbeat) ends `Error`/`ExecutorLost`. Default 15.
   */
  lostAfterSeconds: number;
}

/** What `topas worker` needs, read once at start-up. */
export interface WorkerConfig {
  /** `--nats` / `TOPAS_NATS_URL` (required). */
  nats: string;
  /** `--nats-stream` / `TOPAS_NATS_STREAM`. Default `TOPAS_RUNS`. */
  stream: string;
  /** `--nats-subject` / `TOPAS_NATS_SUBJECT`. Default `topas.runs`. */
  subject: string;
  /** `--concurrency` / `TOPAS_WORKER_CONCURRENCY`: runs this worker executes at once. Default 4 × CPU cores. */
  concurrency: number;
  /** `--workers` / `TOPAS_WORKERS`: Lua worker threads. Default: CPU cores. */
  luaWorkers: number;
  /** `TOPAS_MEMORY_LIMIT_MB`: memory cap of one run's Lua state. Default 64. */
  memoryLimitMb: number;
  /**
   * `--ack-wait-seconds` / `TOPAS_NATS_ACK_WAIT_SECONDS`: how long a run handed to a worker
   * may go without starting (the worker keeps it alive meanwhile) before another worker gets
   * it, when the worker's dies. Applies when the first worker creates the queue's consumer. Default 30.
   */
  ackWaitSeconds: number;
  egress: EgressPolicy;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** Flags of `topas worker`. */
export interface WorkerFlags {
  nats?: string;
  natsStream?: string;
  natsSubject?: string;
  concurrency?: string | number;
  workers?: string | number;
  ackWaitSeconds?: string | number;
}

export const DEFAULT_NATS_STREAM = 'TOPAS_RUNS';
export const DEFAULT_NATS_SUBJECT = 'topas.runs';

/** How topas works with a cluster (`topas up --kubernetes`). */
export interface KubernetesConfig {
  /** `--kubeconfig`; null: `KUBECONFIG`, else `~/.kube/config`, else in-cluster (kubectl's order). */
  kubeconfig: string | null;
  /** `--context`; null: the kubeconfig's current context. */
  context: string | null;
  /**
   * `--namespace` / `TOPAS_NAMESPACE`: where runner Pods of API runs and the leader
   * Lease live. Null: the context's namespace (in a cluster: the Pod's own). TestRuns'
   * Pods always go in the TestRun's namespace.
   */
  namespace: string | null;
  /** `--watch-namespace` / `TOPAS_WATCH_NAMESPACE`: reconcile TestRuns in this namespace only. Null: all namespaces. */
  watchNamespace: string | null;
  /** `--runner-image` / `TOPAS_RUNNER_IMAGE`: the image of runner Pods. Default `ghcr.io/topas-dev/topas:<version>`. */
  runnerImage: string;
  /**
   * `--runner-server-url` / `TOPAS_RUNNER_SERVER_URL`: the URL runner Pods reach this
   * server at (in a cluster, its Service: `http://topas.<ns>.svc:4000`). Null: the server's own URL.
   */
  serverUrl: string | null;
  /**
   * Only the holder of the `topas-controller` Lease reconciles and dispatches runs
   * (`TOPAS_LEADER_ELECTION=0` turns it off for a single instance). Default on.
   */
  leaderElection: boolean;
  /**
   * `TOPAS_LEADER_LEASE_SECONDS`: how long the leader Lease holds without a renewal — a
   * crashed leader is replaced after at most this. Default 15 (renewed every 2/15 of it).
   */
  leaseDurationSeconds: number;
  /**
   * `TOPAS_POD_GRACE_SECONDS`: how long a runner Pod may fail to pull its image or to be
   * scheduled before its run ends `Error` (`ImagePullError`, `SchedulingError`). Default 60.
   */
  podGraceSeconds: number;
}

/** The runner image of this version of topas. */
export const DEFAULT_RUNNER_IMAGE = 'ghcr.io/topas-dev/topas:0.1.0';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const APP_DATABASE_ENGINES = ['auto', 'postgresql', 'pglite'] as const;
export type AppDatabaseEngine = (typeof APP_DATABASE_ENGINES)[number];

/** Flags as parsed by the CLI (strings or undefined). */
export interface ConfigFlags {
  host?: string;
  port?: string | number;
  data?: string;
  concurrency?: string | number;
  examples?: boolean;
  workers?: string | number;
  /** `--allowed-host` values (repeatable). */
  allowedHosts?: string[];
  /** `--insecure-no-auth` given on the command line. */
  insecureNoAuth?: boolean;
  /** `--kubernetes` and its companions. */
  kubernetes?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  watchNamespace?: string;
  runnerImage?: string;
  runnerServerUrl?: string;
  /** `--git-allow-file` given on the command line. */
  gitAllowFile?: boolean;
  /** `--categories FILE`: the failure-category rules file. */
  categories?: string;
  /** `--retention-days`. */
  retentionDays?: string | number;
  /** `--retention` values (repeatable): `label=value:days`. */
  retentionOverrides?: string[];
  /** `--log-retention-days`. */
  logRetentionDays?: string | number;
  /** `--nats URL`: executor workers on NATS JetStream. */
  nats?: string;
  natsStream?: string;
  natsSubject?: string;
}

/** True when `host` names a loopback interface (only this machine can connect). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** A host name or IP address as a `Host` header carries it, without port: `topas.example.com`, `10.0.0.5`, `[fd00::1]`. */
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/;

function hostList(issues: FieldIssue[], field: string, raw: string[]): string[] {
  const hosts: string[] = [];
  for (const item of raw) {
    let host = item.trim().toLowerCase();
    if (host === '') continue;
    // A bare IPv6 address (e.g. a Pod's IP from the downward API) as the Host header writes it: `[fd00::1]`.
    if (isIPv6(host)) host = `[${host}]`;
    if (!HOST_NAME.test(host) || host.length > 253) {
      issues.push({ field, message: `${JSON.stringify(item)} is not a host name (give a name or IP address without scheme or port, e.g. topas.example.com)` });
      continue;
    }
    hosts.push(host);
  }
  return hosts;
}

function intIn(issues: FieldIssue[], field: string, raw: string | number | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    issues.push({ field, message: `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}` });
    return fallback;
  }
  return n;
}

function oneOf<T extends string>(issues: FieldIssue[], field: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined || raw === '') return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  issues.push({ field, message: `must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}` });
  return fallback;
}

function egressFrom(issues: FieldIssue[], raw: string | undefined): EgressPolicy {
  const { policy, errors } = parseEgressAllow(raw);
  for (const message of errors) issues.push({ field: EGRESS_SETTING, message });
  return policy;
}

/** Runs in flight by default when memory allows: what I/O-bound tests need (design: 50). */
export const DEFAULT_CONCURRENCY = 50;
/**
 * The default of `concurrency`: `DEFAULT_CONCURRENCY` runs, bounded so that that many
 * runs at their memory cap (`memoryLimitMb` each) fit in the share of
 * `totalMemoryBytes` the resource profile gives runs (`MACHINE_MEMORY_SHARE`); at least 1. The local executor's workers interleave many runs each.
 */
export function defaultConcurrency(totalMemoryBytes: number, memoryLimitMb: number): number {
  const fit = Math.floor((totalMemoryBytes * MACHINE_MEMORY_SHARE) / (memoryLimitMb * 1024 * 1024));
  return Math.max(1, Math.min(DEFAULT_CONCURRENCY, fit));
}

/**
 * The default of `readConcurrency`. Embedded, the database thread runs one statement at
 * a time and its lanes give the engine's work first turn (`priority-lanes.ts`); 4 reads
 * at once keep it fed (2 left reads waiting while it had time for them: open-loop read
 * p99 ~1 s in one of two bench runs). On PostgreSQL reads run in server processes beside
 * the engine's transactions, on the same CPUs, with nothing to give the engine first
 * turn but how many reads go at once: one for every two cores. On 2 cores (2026-12-02,
 * four alternating bench runs each) runs kept 0.76–0.82 of their idle rate under 50
 * closed-loop readers with 1 at once, 0.67–0.71 with 2 (0.50–0.65 with 4, 2026-12-01); the
 * readers got ~1,000 answers/s instead of ~1,500, the open loop's read p99 37–47 ms
 * instead of 22–28. A PostgreSQL server with cores to spare for readers can take more.
 */
export function defaultReadConcurrency(postgres: boolean, cores: number): number {
  return postgres ? Math.max(1, Math.floor(cores / 2)) : 4;
}

/** Flags → TOPAS_* environment → defaults. Throws ValidationError naming the setting. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): TopasConfig {
  const issues: FieldIssue[] = [];
  const cores = availableParallelism();
  const config: TopasConfig = {
    host: flags.host ?? env.TOPAS_HOST ?? '127.0.0.1',
    port: intIn(issues, flags.port !== undefined ? '--port' : 'TOPAS_PORT', flags.port ?? env.TOPAS_PORT, 0, 65535, 4000),
    dataDir: resolve(flags.data ?? env.TOPAS_DATA_DIR ?? './.topas'),
    databaseUrl: env.DATABASE_URL || null,
    concurrency: intIn(
      issues,
      flags.concurrency !== undefined ? '--concurrency' : 'TOPAS_CONCURRENCY',
      flags.concurrency ?? env.TOPAS_CONCURRENCY,
      1,
      100_000,
      defaultConcurrency(totalmem(), intIn([], 'TOPAS_MEMORY_LIMIT_MB', env.TOPAS_MEMORY_LIMIT_MB, 4, 16_384, 64)),
    ),
    examples: flags.examples ?? env.TOPAS_EXAMPLES !== 'false',
    defaultTimeoutSeconds: intIn(issues, 'TOPAS_DEFAULT_TIMEOUT', env.TOPAS_DEFAULT_TIMEOUT, 1, 86_400, 600),
    memoryLimitMb: intIn(issues, 'TOPAS_MEMORY_LIMIT_MB', env.TOPAS_MEMORY_LIMIT_MB, 4, 16_384, 64),
    workers: intIn(issues, flags.workers !== undefined ? '--workers' : 'TOPAS_WORKERS', flags.workers ?? env.TOPAS_WORKERS, 1, 256, cores),
    readConcurrency: intIn(issues, 'TOPAS_READ_CONCURRENCY', env.TOPAS_READ_CONCURRENCY, 1, 64, defaultReadConcurrency(Boolean(env.DATABASE_URL), cores)),
    databaseStatementCache: intIn(issues, 'TOPAS_DATABASE_STATEMENT_CACHE', env.TOPAS_DATABASE_STATEMENT_CACHE, 0, 10_000, DEFAULT_STATEMENT_CACHE),
    instanceId: env.TOPAS_INSTANCE_ID || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    appDatabases: oneOf(issues, 'TOPAS_APP_DATABASES', env.TOPAS_APP_DATABASES, APP_DATABASE_ENGINES, 'auto'),
    auth: !(flags.insecureNoAuth || envFlag(issues, 'TOPAS_INSECURE_NO_AUTH', env.TOPAS_INSECURE_NO_AUTH)),
    allowedHosts: flags.allowedHosts?.length
      ? hostList(issues, '--allowed-host', flags.allowedHosts)
      : hostList(issues, 'TOPAS_ALLOWED_HOSTS', (env.TOPAS_ALLOWED_HOSTS ?? '').split(',')),
    adminToken: env.TOPAS_ADMIN_TOKEN || null,
    egress: egressFrom(issues, env[EGRESS_SETTING]),
    gitAllowFile: flags.gitAllowFile || envFlag(issues, 'TOPAS_GIT_ALLOW_FILE', env.TOPAS_GIT_ALLOW_FILE),
    logLevel: oneOf(issues, 'TOPAS_LOG_LEVEL', env.TOPAS_LOG_LEVEL, LOG_LEVELS, 'info'),
    logFormat: oneOf(issues, 'TOPAS_LOG_FORMAT', env.TOPAS_LOG_FORMAT, LOG_FORMATS, 'text'),
    flakyWindow: intIn(issues, 'TOPAS_FLAKY_WINDOW', env.TOPAS_FLAKY_WINDOW, 2, 100, DEFAULT_FLAKY_WINDOW),
    reportMaxMb: intIn(issues, 'TOPAS_REPORT_MAX_MB', env.TOPAS_REPORT_MAX_MB, 1, 102_400, 200),
    kubernetes: kubernetesFrom(issues, flags, env),
    categories: categoriesFrom(issues, flags.categories !== undefined ? '--categories' : 'TOPAS_CATEGORIES_FILE', flags.categories ?? env.TOPAS_CATEGORIES_FILE),
    profileBudget: profileBudgetFrom(issues, env, cores),
    retention: retentionFrom(issues, flags, env),
    nats: natsFrom(issues, flags, env),
  };
  if (config.nats && config.kubernetes) {
    issues.push({ field: flags.nats !== undefined ? '--nats' : 'TOPAS_NATS_URL', message: 'runs execute either as runner Pods (--kubernetes) or on NATS workers (--nats), not both; give one of them' });
  }
  if (config.adminToken !== null && (config.adminToken.length < 32 || config.adminToken.length > 256 || !/^[\x21-\x7e]+$/.test(config.adminToken))) {
    issues.push({ field: 'TOPAS_ADMIN_TOKEN', message: 'must be 32 to 256 printable characters without spaces (e.g. the output of: openssl rand -base64 32)' });
  }
  // Exposing topas without authentication takes the flag itself, typed on purpose; an
  // environment variable left over in a shell or an image must not do it.
  if (!config.auth && !flags.insecureNoAuth && !isLoopbackHost(config.host)) {
    issues.push({
      field: 'TOPAS_INSECURE_NO_AUTH',
      message: `turns authentication off only on a loopback address, and topas would listen on ${config.host}, which other machines can reach; remove TOPAS_INSECURE_NO_AUTH to use tokens, or pass --insecure-no-auth on the command line if this network is trusted`,
    });
  }
  if (issues.length) throw new ValidationError(issues);
  return config;
}

/** The categories file named by `field`, read and validated (problems name the file and line). */
function categoriesFrom(issues: FieldIssue[], field: string, raw: string | undefined): TopasConfig['categories'] {
  if (raw === undefined || raw.trim() === '') return null;
  const file = resolve(raw);
  try {
    return { file, rules: readCategoriesFile(file) };
  } catch (error) {
    if (!(error instanceof CategoriesFileError)) throw error;
    issues.push({ field, message: error.message });
    return null;
  }
}

function profileBudgetFrom(issues: FieldIssue[], env: NodeJS.ProcessEnv, cores: number): ProfileBudget {
  const cpuRaw = env.TOPAS_PROFILE_BUDGET_CPU?.trim() || null;
  const memRaw = env.TOPAS_PROFILE_BUDGET_MEMORY?.trim() || null;
  const cpu = cpuRaw === null ? null : parseCpuQuantity(cpuRaw);
  const mem = memRaw === null ? null : parseMemoryQuantity(memRaw);
  if (cpuRaw !== null && cpu === null) issues.push({ field: 'TOPAS_PROFILE_BUDGET_CPU', message: `must be a number of CPU cores above 0 (4, 0.5 or 3500m), got ${JSON.stringify(cpuRaw)}` });
  if (memRaw !== null && mem === null) issues.push({ field: 'TOPAS_PROFILE_BUDGET_MEMORY', message: `must be an amount of memory above 0 (8Gi, 512Mi, 2G or bytes), got ${JSON.stringify(memRaw)}` });
  const configured = (cpu !== null ? 1 : 0) + (mem !== null ? 1 : 0);
  return {
    cpuCores: cpu ?? cores,
    memoryBytes: mem ?? Math.floor(totalmem() * MACHINE_MEMORY_SHARE),
    source: configured === 2 ? 'configured' : configured === 1 ? 'mixed' : 'machine',
  };
}

/** Days of a retention setting: unset or empty is null (keep forever). */
function retentionDays(issues: FieldIssue[], field: string, raw: string | number | undefined): number | null {
  if (raw === undefined || raw === '') return null;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < 1 || n > MAX_RETENTION_DAYS) {
    issues.push({ field, message: `must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${JSON.stringify(raw)} (leave it unset to keep everything)` });
    return null;
  }
  return n;
}

/**
 * The retention policy from flags and environment. Overrides only keep runs longer
 * (the longest applicable retention wins), so an override that could never apply is
 * an error rather than a silent no-op, and so are log lines kept longer than their runs.
 */
function retentionFrom(issues: FieldIssue[], flags: ConfigFlags, env: NodeJS.ProcessEnv): RetentionPolicy {
  const daysField = flags.retentionDays !== undefined ? '--retention-days' : 'TOPAS_RETENTION_DAYS';
  const logField = flags.logRetentionDays !== undefined ? '--log-retention-days' : 'TOPAS_LOG_RETENTION_DAYS';
  const fromFlags = (flags.retentionOverrides?.length ?? 0) > 0;
  const overridesField = fromFlags ? '--retention' : 'TOPAS_RETENTION_OVERRIDES';
  const days = retentionDays(issues, daysField, flags.retentionDays ?? env.TOPAS_RETENTION_DAYS);
  const logDays = retentionDays(issues, logField, flags.logRetentionDays ?? env.TOPAS_LOG_RETENTION_DAYS);
  const { overrides, errors } = parseRetentionOverrides(fromFlags ? flags.retentionOverrides! : (env.TOPAS_RETENTION_OVERRIDES ?? '').split(','));
  for (const message of errors) issues.push({ field: overridesField, message });
  const daysSet = days !== null || (flags.retentionDays ?? env.TOPAS_RETENTION_DAYS ?? '') !== '';
  if (overrides.length && !daysSet) {
    issues.push({
      field: overridesField,
      message: `keeps runs with these labels longer than ${daysField}, which is not set (every run is kept forever); set ${daysField} as well`,
    });
  } else if (days !== null) {
    for (const o of overrides) {
      if (o.days !== null && o.days <= days) {
        issues.push({
          field: overridesField,
          message: `${o.label}=${o.value}:${o.days} keeps runs ${describeDays(o.days)}, not longer than ${daysField} (${days}); the longest retention applies, so it would change nothing — give more than ${days} days, or "forever"`,
        });
      }
    }
  }
  if (logDays !== null && days !== null && logDays > days) {
    issues.push({
      field: logField,
      message: `${describeDays(logDays)} is longer than ${daysField} (${days}); log lines are deleted with their runs, so give at most ${days} days`,
    });
  }
  return { days, logDays, overrides };
}

/** A boolean environment switch: 1/true/yes or 0/false/no (empty: off). */
function envFlag(issues: FieldIssue[], field: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  issues.push({ field, message: `must be 1 or 0 (true/false), got ${JSON.stringify(raw)}` });
  return false;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function kubernetesFrom(issues: FieldIssue[], flags: ConfigFlags, env: NodeJS.ProcessEnv): KubernetesConfig | null {
  if (!flags.kubernetes && !envFlag(issues, 'TOPAS_KUBERNETES', env.TOPAS_KUBERNETES)) return null;
  const namespace = flags.namespace ?? env.TOPAS_NAMESPACE ?? null;
  const watchNamespace = flags.watchNamespace ?? env.TOPAS_WATCH_NAMESPACE ?? null;
  for (const [field, value] of [
    [flags.namespace !== undefined ? '--namespace' : 'TOPAS_NAMESPACE', namespace],
    [flags.watchNamespace !== undefined ? '--watch-namespace' : 'TOPAS_WATCH_NAMESPACE', watchNamespace],
  ] as const) {
    if (value !== null && !DNS_LABEL.test(value)) issues.push({ field, message: `${JSON.stringify(value)} is not a namespace name (lower-case letters, digits and "-", at most 63)` });
  }
  const serverUrl = flags.runnerServerUrl ?? env.TOPAS_RUNNER_SERVER_URL ?? null;
  if (serverUrl !== null && !/^https?:\/\/[^/\s]+/.test(serverUrl)) {
    issues.push({ field: flags.runnerServerUrl !== undefined ? '--runner-server-url' : 'TOPAS_RUNNER_SERVER_URL', message: `must be an http(s) URL, got ${JSON.stringify(serverUrl)}` });
  }
  const leader = env.TOPAS_LEADER_ELECTION;
  return {
    kubeconfig: flags.kubeconfig ?? null,
    context: flags.context ?? null,
    namespace,
    watchNamespace,
    runnerImage: flags.runnerImage ?? env.TOPAS_RUNNER_IMAGE ?? DEFAULT_RUNNER_IMAGE,
    serverUrl: serverUrl?.replace(/\/+$/, '') ?? null,
    leaderElection: leader === undefined || leader === '' ? true : envFlag(issues, 'TOPAS_LEADER_ELECTION', leader),
    leaseDurationSeconds: intIn(issues, 'TOPAS_LEADER_LEASE_SECONDS', env.TOPAS_LEADER_LEASE_SECONDS, 1, 3600, 15),
    podGraceSeconds: intIn(issues, 'TOPAS_POD_GRACE_SECONDS', env.TOPAS_POD_GRACE_SECONDS, 1, 86_400, 60),
  };
}

const NATS_URL = /^(nats|tls):\/\/[^/\s]+\/?$/;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,200}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The NATS URL, stream and subject (shared by `topas up --nats` and `topas worker`). */
function natsQueueFrom(issues: FieldIssue[], flags: { nats?: string; natsStream?: string; natsSubject?: string }, env: NodeJS.ProcessEnv, url: string) {
  const urlField = flags.nats !== undefined ? '--nats' : 'TOPAS_NATS_URL';
  if (!NATS_URL.test(url)) issues.push({ field: urlField, message: `must be a NATS URL like nats://127.0.0.1:4222, got ${JSON.stringify(url)}` });
  const stream = flags.natsStream ?? (env.TOPAS_NATS_STREAM || DEFAULT_NATS_STREAM);
  if (!STREAM_NAME.test(stream)) {
    issues.push({ field: flags.natsStream !== undefined ? '--nats-stream' : 'TOPAS_NATS_STREAM', message: `must be a JetStream stream name (letters, digits, "-" and "_"), got ${JSON.stringify(stream)}` });
  }
  const subject = flags.natsSubject ?? (env.TOPAS_NATS_SUBJECT || DEFAULT_NATS_SUBJECT);
  if (!SUBJECT_PREFIX.test(subject)) {
    issues.push({ field: flags.natsSubject !== undefined ? '--nats-subject' : 'TOPAS_NATS_SUBJECT', message: `must be a NATS subject without wildcards (tokens of letters, digits, "-" and "_" joined by "."), got ${JSON.stringify(subject)}` });
  }
  return { url: url.replace(/\/+$/, ''), stream, subject };
}

function natsFrom(issues: FieldIssue[], flags: ConfigFlags, env: NodeJS.ProcessEnv): NatsConfig | null {
  const url = flags.nats ?? (env.TOPAS_NATS_URL || undefined);
  if (url === undefined) return null;
  const queue = natsQueueFrom(issues, flags, env, url);
  const serverUrl = flags.runnerServerUrl ?? env.TOPAS_RUNNER_SERVER_URL ?? null;
  if (serverUrl !== null && !/^https?:\/\/[^/\s]+/.test(serverUrl)) {
    issues.push({ field: flags.runnerServerUrl !== undefined ? '--runner-server-url' : 'TOPAS_RUNNER_SERVER_URL', message: `must be an http(s) URL, got ${JSON.stringify(serverUrl)}` });
  }
  return {
    ...queue,
    serverUrl: serverUrl?.replace(/\/+$/, '') ?? null,
    lostAfterSeconds: intIn(issues, 'TOPAS_NATS_LOST_AFTER_SECONDS', env.TOPAS_NATS_LOST_AFTER_SECONDS, 2, 3600, 15),
  };
}

/** `topas worker`: flags → TOPAS_* environment → defaults. Throws ValidationError naming the setting. */
export function loadWorkerConfig(flags: WorkerFlags = {}, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const issues: FieldIssue[] = [];
  const cores = availableParallelism();
  const url = flags.nats ?? (env.TOPAS_NATS_URL || undefined);
  if (url === undefined) issues.push({ field: '--nats', message: 'is required: the NATS server to pull runs from, e.g. --nats nats://127.0.0.1:4222 (or TOPAS_NATS_URL)' });
  const queue = natsQueueFrom(issues, flags, env, url ?? 'nats://127.0.0.1:4222');
  const config: WorkerConfig = {
    nats: queue.url,
    stream: queue.stream,
    subject: queue.subject,
    concurrency: intIn(issues, flags.concurrency !== undefined ? '--concurrency' : 'TOPAS_WORKER_CONCURRENCY', flags.concurrency ?? env.TOPAS_WORKER_CONCURRENCY, 1, 10_000, cores * 4),
    luaWorkers: intIn(issues, flags.workers !== undefined ? '--workers' : 'TOPAS_WORKERS', flags.workers ?? env.TOPAS_WORKERS, 1, 256, cores),
    memoryLimitMb: intIn(issues, 'TOPAS_MEMORY_LIMIT_MB', env.TOPAS_MEMORY_LIMIT_MB, 4, 16_384, 64),
    ackWaitSeconds: intIn(issues, flags.ackWaitSeconds !== undefined ? '--ack-wait-seconds' : 'TOPAS_NATS_ACK_WAIT_SECONDS', flags.ackWaitSeconds ?? env.TOPAS_NATS_ACK_WAIT_SECONDS, 1, 3600, 30),
    egress: egressFrom(issues, env[EGRESS_SETTING]),
    logLevel: oneOf(issues, 'TOPAS_LOG_LEVEL', env.TOPAS_LOG_LEVEL, LOG_LEVELS, 'info'),
    logFormat: oneOf(issues, 'TOPAS_LOG_FORMAT', env.TOPAS_LOG_FORMAT, LOG_FORMATS, 'text'),
  };
  if (issues.length) throw new ValidationError(issues);
  return config;
}
