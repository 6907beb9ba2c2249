import type { AppRecord } from '../core/app.js';
import type { Run, RunSummary } from '../core/run.js';
import type { TestDefinition } from '../core/definition.js';
import type { AssertionRecord, LogLine, StepRecord } from '../core/run-events.js';

/**
 * Database rows → core types. Both drivers return `timestamptz` as Date and jsonb
 * parsed; node-postgres returns bigint as a string, so numbers go through Number().
 */
type Row = Record<string, unknown>;

export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  // A UTC time as PostgreSQL's JSON has it: rewritten, not parsed (a run list has ~200 of them).
  const utc = UTC_TIME.exec(text);
  if (utc) return `${utc[1]}.${(utc[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  return new Date(text).toISOString();
}

/** `2026-12-01T22:10:03.123456+00:00` (PostgreSQL's JSON form of a timestamptz in UTC) or `…Z`. */
const UTC_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:\+00:00|Z)$/;

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A json column's value, whether the driver parsed it or handed the text. */
export function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function toSummary(row: Row): RunSummary {
  return {
    stepsPassed: Number(row.steps_passed),
    stepsFailed: Number(row.steps_failed),
    stepsSkipped: Number(row.steps_skipped),
    assertionsPassed: Number(row.assertions_passed),
    assertionsFailed: Number(row.assertions_failed),
    ...(Number(row.quarantined_failures ?? 0) > 0 ? { quarantinedFailures: Number(row.quarantined_failures) } : {}),
  };
}

export function toRun(row: Row): Run {
  return {
    id: row.id as string,
    name: row.name as string,
    phase: row.phase as Run['phase'],
    origin: row.origin as Run['origin'],
    k8sRef: row.k8s_ref == null ? null : json<Run['k8sRef']>(row.k8s_ref),
    appName: (row.app_name as string | null) ?? null,
    appReadOnly: row.app_read_only === true,
    source: json<Run['source']>(row.source),
    env: json<Record<string, string>>(row.env),
    timeoutSeconds: Number(row.timeout_seconds),
    labels: json<Record<string, string>>(row.labels),
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    durationMs: numOrNull(row.duration_ms),
    summary: toSummary(row),
    reason: (row.reason as Run['reason']) ?? null,
    message: (row.message as string | null) ?? null,
    executor: (row.owner as string | null) ?? null,
    category: (row.category as string | null) ?? null,
    categoryRule: (row.category_rule as string | null) ?? null,
    profile: row.cpu_ms == null || row.peak_memory_bytes == null ? null : { cpuMs: Number(row.cpu_ms), peakMemoryBytes: Number(row.peak_memory_bytes) },
    logsExpiredAt: isoOrNull(row.logs_expired_at),
  };
}

export function toLogLine(row: Row): LogLine {
  return {
    runId: row.run_id as string,
    seq: Number(row.seq),
    ts: iso(row.ts),
    level: row.level as LogLine['level'],
    message: row.message as string,
    stepSeq: numOrNull(row.step_seq),
  };
}

export function toStep(row: Row): StepRecord {
  return {
    runId: row.run_id as string,
    seq: Number(row.seq),
    parentSeq: numOrNull(row.parent_seq),
    kind: row.kind as StepRecord['kind'],
    name: row.name as string,
    status: row.status as StepRecord['status'],
    startedAt: iso(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    durationMs: numOrNull(row.duration_ms),
    message: (row.message as string | null) ?? null,
    file: (row.file as string | null) ?? null,
    line: numOrNull(row.line),
    // imported testcases only (Lua steps have neither)
    ...(row.classname != null ? { classname: row.classname as string } : {}),
    ...(row.flaky === true ? { flaky: true } : {}),
  };
}

export function toAssertion(row: Row): AssertionRecord {
  return {
    runId: row.run_id as string,
    seq: Number(row.seq),
    stepSeq: numOrNull(row.step_seq),
    passed: Boolean(row.passed),
    message: row.message as string,
    expected: (row.expected as string | null) ?? null,
    actual: (row.actual as string | null) ?? null,
    file: (row.file as string | null) ?? null,
    line: numOrNull(row.line),
    ts: iso(row.ts),
  };
}

export function toDefinition(row: Row): TestDefinition {
  return {
    id: row.id as string,
    name: row.name as string,
    description: row.description as string,
    script: row.script as string,
    files: (row.files as Record<string, string> | null) ?? {},
    env: json<Record<string, string>>(row.env),
    timeoutSeconds: Number(row.timeout_seconds),
    labels: json<Record<string, string>>(row.labels),
    appName: (row.app_name as string | null) ?? null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function toAppRecord(row: Row): AppRecord {
  return {
    name: row.name as string,
    generation: Number(row.generation),
    spec: json<AppRecord['spec']>(row.spec),
    status: row.status == null ? null : json<AppRecord['status']>(row.status),
    baseDir: (row.base_dir as string | null) ?? null,
    labels: json<Record<string, string>>(row.labels),
    annotations: json<Record<string, string>>(row.annotations),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}
