import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { ValidationError, type FieldIssue } from '../core/errors.js';
import { LOG_LEVELS, type LogLevel } from '../core/logger.js';

/** Everything `topas up` needs, read once at start-up and passed down. */
export interface TopasConfig {
  /** Interface to listen on. Default 127.0.0.1. */
  host: string;
  /** Port to listen on; 0 picks a free one. Default 4000. */
  port: number;
  /** Folder for the embedded database and other local state. Default ./.topas */
  dataDir: string;
  /** PostgreSQL URL; when set, used instead of the embedded PGlite database. */
  databaseUrl: string | null;
  /** The one global limit on runs executing at once. Default 2 × CPU cores, at least 4. */
  concurrency: number;
  /** Load and run the bundled example tests at start-up. Default true. */
  examples: boolean;
  /** Timeout of runs that do not set one. Default 600. */
  defaultTimeoutSeconds: number;
  /** Memory cap of one run's Lua state. Default 64 MiB. */
  memoryLimitMb: number;
  /** Lua worker threads of the local executor. Default: CPU cores. */
  workers: number;
  /** This process's identity as an executor owner. */
  instanceId: string;
  /**
   * How Apps' databases run: `auto` (a local PostgreSQL server when installed, else
   * PGlite), `postgresql` or `pglite`. Default auto.
   */
  appDatabases: AppDatabaseEngine;
  /** Least severe entry of topas's own log that is written (to stderr). Default info. */
  logLevel: LogLevel;
  /** `text` (readable) or `json` (one object per line, for log collectors). Default text. */
  logFormat: LogFormat;
}

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
      Math.max(4, cores * 2),
    ),
    examples: flags.examples ?? env.TOPAS_EXAMPLES !== 'false',
    defaultTimeoutSeconds: intIn(issues, 'TOPAS_DEFAULT_TIMEOUT', env.TOPAS_DEFAULT_TIMEOUT, 1, 86_400, 600),
    memoryLimitMb: intIn(issues, 'TOPAS_MEMORY_LIMIT_MB', env.TOPAS_MEMORY_LIMIT_MB, 4, 16_384, 64),
    workers: intIn(issues, flags.workers !== undefined ? '--workers' : 'TOPAS_WORKERS', flags.workers ?? env.TOPAS_WORKERS, 1, 256, cores),
    instanceId: env.TOPAS_INSTANCE_ID || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    appDatabases: oneOf(issues, 'TOPAS_APP_DATABASES', env.TOPAS_APP_DATABASES, APP_DATABASE_ENGINES, 'auto'),
    logLevel: oneOf(issues, 'TOPAS_LOG_LEVEL', env.TOPAS_LOG_LEVEL, LOG_LEVELS, 'info'),
    logFormat: oneOf(issues, 'TOPAS_LOG_FORMAT', env.TOPAS_LOG_FORMAT, LOG_FORMATS, 'text'),
  };
  if (issues.length) throw new ValidationError(issues);
  return config;
}
