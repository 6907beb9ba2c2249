/**
 * A run's test cases with their failure categories, for exports (results.json, JUnit):
 * those recorded when the run ended, or, for a run still going (or one that ended
 * before test results were kept), computed now and judged by the rules in force.
 */
import { categorizer, failureText, type Categorizer } from '../core/categories.js';
import { isTerminal } from '../core/run-phase.js';
import type { Run } from '../core/run.js';
import type { AssertionRecord, StepRecord } from '../core/run-events.js';
import { testCasesOfRun } from '../core/test-case.js';
import type { RecordedTestCase } from '../store/store.js';
import type { ServerStore } from './deps.js';

export interface RunResultsInput {
  run: Run;
  definitionName: string | null;
  /** When the caller already read them (the JUnit export). */
  steps?: readonly StepRecord[];
  assertions?: readonly AssertionRecord[];
}

/** Memoises the rules in force for one request (a report of many runs reads them once). */
export function rulesJudge(store: Pick<ServerStore, 'getCategoryRules'>): () => Promise<Categorizer> {
  let judge: Promise<Categorizer> | null = null;
  return () => (judge ??= store.getCategoryRules().then(({ rules }) => categorizer({ rules })));
}

export async function runResults(store: ServerStore, input: RunResultsInput, judge: () => Promise<Categorizer> = rulesJudge(store)): Promise<RecordedTestCase[]> {
  const { run } = input;
  const recorded = isTerminal(run.phase) ? await store.runTestResults(run.id) : [];
  if (recorded.length) return recorded;
  const [steps, assertions] = await Promise.all([input.steps ?? store.getSteps(run.id), input.assertions ?? store.getAssertions(run.id, { failedOnly: true })]);
  const cases = testCasesOfRun({ run, steps, assertions, definitionName: input.definitionName });
  const verdictOf = cases.some((t) => t.outcome === 'Failed' || t.outcome === 'Error') ? await judge() : null;
  return cases.map((t) => {
    const verdict =
      verdictOf && (t.outcome === 'Failed' || t.outcome === 'Error')
        ? verdictOf({ testKey: t.key, testName: t.name, message: failureText(t.message, t.detail), log: '', definition: t.classname, app: run.appName, labels: run.labels })
        : null;
    return {
      key: t.key,
      classname: t.classname,
      name: t.name,
      outcome: t.outcome,
      durationMs: t.durationMs,
      message: t.message,
      category: verdict?.category ?? null,
      categoryRule: verdict?.rule ?? null,
      quarantined: false,
    };
  });
}
