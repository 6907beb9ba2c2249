/** Test cases and their results as the Tests API serves them, for component tests. */
import type { TestDetail, TestResultItem, TestSummary } from '../api/types';

export const TEST_ID = '5f0c2e9b11a0b1c2';
export const FAILED_RUN = '01935c1e-7b7a-7cc0-8a1d-00000000f001';
export const PASSED_RUN = '01935c1e-7b7a-7cc0-8a1d-00000000a001';

export function makeTestSummary(overrides: Partial<TestSummary> = {}): TestSummary {
  return {
    id: TEST_ID,
    key: 'checkout.lua::checkout / pay',
    classname: 'checkout.lua',
    name: 'checkout / pay',
    definitionId: null,
    appName: 'shop',
    firstSeenAt: '2025-01-30T12:00:00.000Z',
    lastRunAt: '2025-01-31T12:00:00.000Z',
    lastRunId: FAILED_RUN,
    lastOutcome: 'Failed',
    recent: ['Failed', 'Passed', 'Failed', 'Passed', 'Skipped', 'Passed'],
    runs: 6,
    passRate: 0.6,
    flaky: true,
    flakiness: 0.75,
    medianMs: 120,
    p95Ms: 480,
    lastFailure: { runId: FAILED_RUN, at: '2025-01-31T12:00:00.000Z', message: 'payment declined\nexpected: 200\nactual: 402', category: 'Config Gap' },
    quarantine: null,
    ...overrides,
  };
}

export function makeTestDetail(overrides: Partial<TestDetail> = {}): TestDetail {
  return {
    ...makeTestSummary(),
    window: 30,
    flakyEvidence: { flips: 3, runIds: [FAILED_RUN, PASSED_RUN], revision: { revision: 'abc123', passedRunId: PASSED_RUN, failedRunId: FAILED_RUN } },
    ...overrides,
  };
}

export function makeResult(overrides: Partial<TestResultItem> = {}): TestResultItem {
  return {
    runId: FAILED_RUN,
    runName: 'checkout-smoke',
    runPhase: 'Failed',
    createdAt: '2025-01-31T12:00:00.000Z',
    outcome: 'Failed',
    durationMs: 130,
    message: 'payment declined',
    failureType: 'AssertionFailed',
    detail: null,
    category: 'Config Gap',
    categoryRule: 'config-gap',
    quarantined: false,
    flaky: false,
    file: 'checkout.lua',
    line: 12,
    revision: 'abc123',
    ...overrides,
  };
}
