/**
 * The JSON shapes the dashboard reads. Runs, steps, assertions, log lines and
 * definitions are the core's own types (one Run model, the same phase words
 * everywhere); the shapes only the API has (pages, stats, compare, insights,
 * Apps) are declared here as the server documents them in /openapi.json.
 */
import type { TestDefinition } from '../../../src/core/definition';
import type { AssertionRecord, LogLine, StepRecord } from '../../../src/core/run-events';
import type { RunPhase } from '../../../src/core/run-phase';
import type { Run } from '../../../src/core/run';
import type { RunComparison } from '../../../src/core/compare';
import type { FailingTest, SlowTest, TopLists } from '../../../src/core/insights';
import type { CategoryRule } from '../../../src/core/categories';

export type { RunPhase } from '../../../src/core/run-phase';
export type { K8sRef, Run, RunOrigin, RunSummary } from '../../../src/core/run';
/** A run as lists show it: without the script and files (read the run by id for those). */
export type { RunListItem } from '../../../src/core/run-view';
export type { AssertionRecord, LogLevel, LogLine, StepRecord, StepStatus } from '../../../src/core/run-events';
export type Definition = TestDefinition;
export type { Identity, Role } from '../../../src/core/roles';

/** A keyset page: pass `nextCursor` back as `cursor`; null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `GET /api/runs/{id}`: the run with its steps (a tree through parentSeq) and assertions. */
export interface RunDetail extends Run {
  steps: StepRecord[];
  assertions: AssertionRecord[];
}

export interface LogPage {
  items: LogLine[];
  nextSeq: number;
  /** When log retention deleted this run's lines (then `items` is empty and `notice` says why). */
  logsExpiredAt?: string | null;
  notice?: string | null;
}

/** `GET /api/stats`. */
export interface Stats {
  queueDepth: number;
  activeRunners: number;
  concurrency: number;
  runsByPhase: Partial<Record<RunPhase, number>>;
}

/** What a request to start a run carries (`POST /api/runs`). */
export interface CreateRunRequest {
  name?: string;
  script?: string;
  fileName?: string;
  definitionId?: string;
  /** A test in a git repository, checked out when the run executes. */
  source?: { git: { url: string; path: string; revision?: string } };
  env?: Record<string, string>;
  timeoutSeconds?: number;
  labels?: Record<string, string>;
  appName?: string;
  origin?: 'api' | 'cli' | 'ui';
}

export interface DefinitionInput {
  name: string;
  description?: string;
  script: string;
  env?: Record<string, string>;
  timeoutSeconds?: number;
  labels?: Record<string, string>;
  appName?: string | null;
  files?: Record<string, string>;
}

// --- compare, insights, apps: the core's shapes, as the API serves them ---------------

export type { AssertionDiff, RunRef, StepDiff, StepSide } from '../../../src/core/compare';
/** `GET /api/runs/{id}/compare?with=…`: `head` is the run in the path, `base` the other. */
export type CompareResult = RunComparison;

export type { FinishedPhase as TerminalPhase, TrendPoint, Trends } from '../../../src/core/insights';
export type TopTests = TopLists;
export type MostFailingTest = FailingTest;
export type SlowestTest = SlowTest;

export type { App, AppStatus, Condition, DatabaseStatus, Endpoint, ServiceStatus } from '../../../src/core/app';

/** Where something happened: `{file, line}` from the API, or `file:line` text. */
export type LocationLike = string | { file: string | null; line: number | null } | null | undefined;

// --- test results, categories, resource profile (issue 12) ----------------------------

/** A test case's outcome in one run, and test cases across runs: the core's shapes, as `/api/tests` serves them. */
export type { TestOutcome } from '../../../src/core/test-case';
export type { FlakyEvidence, TestDetail, TestSummary } from '../../../src/core/test-summary';
import type { TestOutcome } from '../../../src/core/test-case';
import type { TestResultItem as CoreTestResultItem } from '../../../src/core/test-summary';

/** `GET /api/definitions` items: the definition and its last finished run (null when none has finished). */
export interface DefinitionListItem extends Definition {
  lastRun: { id: string; phase: RunPhase; finishedAt: string | null; category: string | null } | null;
}

/** One result of a test case (`GET /api/tests/{id}/history`), newest first; `runPhase` is one of the run phases. */
export type TestResultItem = Omit<CoreTestResultItem, 'runPhase'> & { runPhase: RunPhase };

export type { CategoryRule, CategoryRules } from '../../../src/core/categories';

/** `GET /api/categories`: the ordered rules (first match wins) and who saved them. */
export interface CategoryRulesState {
  rules: CategoryRule[];
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
  /** True while no rules were saved: the shipped defaults apply. */
  defaults: boolean;
}

/** `POST /api/categories/preview`: what the proposed rules would say about recent failures. */
export interface CategoryPreview {
  items: {
    runId: string;
    testKey: string;
    testId: string;
    message: string | null;
    before: { category: string; rule: string | null };
    after: { category: string; rule: string | null };
  }[];
  changed: number;
}

/** A background re-categorization of past failures (`POST /api/categories/apply`). */
export type { CategoryApplyJob } from '../../../src/core/categories';

/** `GET /api/insights/categories`: failed test cases per category per bucket. */
export interface CategoryBreakdown {
  points: { start: string; counts: Record<string, number> }[];
  categories: string[];
}

import type { RecordedTestCase } from '../../../src/core/test-case';

export type { ParallelismRecommendation } from '../../../src/core/resource-profile';
import type { ParallelismRecommendation } from '../../../src/core/resource-profile';

/** `GET /api/insights/profile` (the parts the Overview shows): how many runs fit at once in the budget, and why. */
export interface ResourceProfileInsight {
  from: string;
  to: string;
  budget: { cpuCores: number; memoryBytes: number; source: 'machine' | 'configured' | 'mixed' };
  recommendation: ParallelismRecommendation;
}

/** `GET /api/runs/{id}/results.json`: a run's test cases, the Streamstress shape. */
export interface RunResults {
  run: { id: string; name: string; phase: RunPhase; category: string | null; [key: string]: unknown };
  results: RecordedTestCase[];
}
