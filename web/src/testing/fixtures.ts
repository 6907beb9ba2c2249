/** Runs, steps and assertions for tests, with defaults for every field a test does not care about. */
import type { AssertionRecord, LogLine, Run, StepRecord } from '../api/types';

export function makeRun(overrides: Partial<Run> = {}): Run {
  return {
    id: '01935c1e-7b7a-7cc0-8a1d-5f4f0c2e9b11',
    name: 'checkout-smoke',
    phase: 'Passed',
    origin: 'api',
    k8sRef: null,
    appName: null,
    source: { type: 'inline', script: 'assert(true)', fileName: 'checkout.lua' },
    env: {},
    timeoutSeconds: 600,
    labels: {},
    createdAt: '2025-01-31T12:00:00.000Z',
    startedAt: '2025-01-31T12:00:00.010Z',
    finishedAt: '2025-01-31T12:00:01.010Z',
    durationMs: 1000,
    summary: { stepsPassed: 1, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 1, assertionsFailed: 0 },
    reason: null,
    message: null,
    executor: 'test',
    category: null,
    categoryRule: null,
    ...overrides,
  } as Run;
}

export function makeStep(overrides: Partial<StepRecord> & { seq: number }): StepRecord {
  return {
    runId: 'r',
    parentSeq: null,
    kind: 'step',
    name: `step ${overrides.seq}`,
    status: 'passed',
    startedAt: '2025-01-31T12:00:00.000Z',
    finishedAt: '2025-01-31T12:00:01.000Z',
    durationMs: 1000,
    message: null,
    file: 'checkout.lua',
    line: 1,
    ...overrides,
  };
}

export function makeAssertion(overrides: Partial<AssertionRecord> & { seq: number }): AssertionRecord {
  return {
    runId: 'r',
    stepSeq: null,
    passed: true,
    message: `assertion ${overrides.seq}`,
    expected: null,
    actual: null,
    file: 'checkout.lua',
    line: 1,
    ts: '2025-01-31T12:00:00.500Z',
    ...overrides,
  };
}

export function makeLines(from: number, to: number): LogLine[] {
  const out: LogLine[] = [];
  for (let seq = from; seq <= to; seq++) out.push({ runId: 'r', seq, ts: '2025-01-31T12:00:00.000Z', level: 'info', message: `line ${seq}`, stepSeq: null });
  return out;
}
