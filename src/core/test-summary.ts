/**
 * What topas knows about one test case across runs (issue 12): its last outcomes,
 * pass rate, flakiness, durations, last failure and quarantine. Read by the Tests
 * API (`GET /api/tests`), the CLI (`topas tests`) and the dashboard.
 */
import type { TestOutcome } from './test-case.js';
import type { RunOrigin } from './run.js';

/** Outcomes considered for flakiness and pass rate, by default (`TOPAS_FLAKY_WINDOW`). */
export const DEFAULT_FLAKY_WINDOW = 30;
/** Outcomes in a summary's strip (`recent`). */
export const RECENT_STRIP = 20;

export interface TestQuarantine {
  at: string;
  by: string | null;
  reason: string;
}

export interface TestLastFailure {
  runId: string;
  at: string;
  message: string | null;
  category: string | null;
}

/** One test case across its runs. */
export interface TestSummary {
  /** 16 hex digits of the MD5 of the key (stable; for URLs). */
  id: string;
  /** `classname::name`. */
  key: string;
  classname: string;
  name: string;
  definitionId: string | null;
  appName: string | null;
  firstSeenAt: string;
  lastRunAt: string;
  lastRunId: string;
  lastOutcome: TestOutcome;
  /** The last outcomes, newest first, at most 20. */
  recent: TestOutcome[];
  /** Results recorded. */
  runs: number;
  /** Passed / (Passed + Failed + Error) over the flaky window; null when none. */
  passRate: number | null;
  /** Flipped Passed↔(Failed|Error) at least twice in the window, or passed and failed on one revision. */
  flaky: boolean;
  /** flips / (outcomes − 1) over the window (Skipped ignored); 0 with fewer than two outcomes. */
  flakiness: number;
  /** Over the last 100 non-skipped results with a duration. */
  medianMs: number | null;
  p95Ms: number | null;
  lastFailure: TestLastFailure | null;
  quarantine: TestQuarantine | null;
}

/** Why a test is flaky: the runs where its outcome flipped, and a revision it both passed and failed on. */
export interface FlakyEvidence {
  flips: number;
  /** Runs (newest first) whose outcome differs from the previous run's, over the window. */
  runIds: string[];
  revision: { revision: string; passedRunId: string | null; failedRunId: string | null } | null;
}

export interface TestDetail extends TestSummary {
  /** The flaky window (outcomes considered). */
  window: number;
  flakyEvidence: FlakyEvidence;
}

/** One test case's result in one run (its history). */
export interface TestResultItem {
  runId: string;
  runName: string;
  runPhase: string;
  createdAt: string;
  outcome: TestOutcome;
  durationMs: number | null;
  message: string | null;
  failureType: string | null;
  detail: string | null;
  category: string | null;
  categoryRule: string | null;
  quarantined: boolean;
  flaky: boolean;
  file: string | null;
  line: number | null;
  revision: string | null;
}

/** Filters of the Tests list, ANDed. */
export interface TestFilter {
  /** Substring of the key (case-insensitive). */
  text?: string;
  definitionId?: string;
  appName?: string;
  /** The origin of the test's last run. */
  origin?: RunOrigin;
  /** The category of the last failure. */
  category?: string;
  /** The last outcome. */
  outcome?: TestOutcome;
  /** Only flaky tests. */
  flaky?: boolean;
  /** Only quarantined tests. */
  quarantined?: boolean;
}
