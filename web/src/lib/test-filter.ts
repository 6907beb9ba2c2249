/**
 * The Tests page's filters and their two spellings: the page URL (shareable,
 * survives reload) and the query of `GET /api/tests`. As on the Runs page, the URL
 * is the only state.
 *
 * URL: `?text=login&definition=ID&app=shop&origin=import&category=Regression&outcome=Failed&flaky=true&quarantined=true`
 */
import type { RunOrigin, TestOutcome } from '../api/types';
import { RUN_ORIGINS } from './domain';

export { TEST_OUTCOMES } from '../../../src/core/test-case';
import { TEST_OUTCOMES } from '../../../src/core/test-case';

export interface TestFilters {
  /** Text in the test's key (`classname::name`). */
  text: string;
  /** Only tests of this definition id. */
  definition: string;
  app: string;
  origin: RunOrigin | '';
  /** The category of the last failure. */
  category: string;
  /** The last outcome. */
  outcome: TestOutcome | '';
  /** Only flaky tests. */
  flaky: boolean;
  /** Only quarantined tests. */
  quarantined: boolean;
}

export const EMPTY_TEST_FILTERS: TestFilters = { text: '', definition: '', app: '', origin: '', category: '', outcome: '', flaky: false, quarantined: false };

/** Reads filters from a page URL's search params; unknown origins and outcomes are dropped. */
export function testFiltersFromSearch(params: URLSearchParams): TestFilters {
  const origin = params.get('origin')?.trim() ?? '';
  const outcome = params.get('outcome')?.trim() ?? '';
  return {
    text: params.get('text') ?? '',
    definition: params.get('definition')?.trim() ?? '',
    app: params.get('app')?.trim() ?? '',
    origin: (RUN_ORIGINS as readonly string[]).includes(origin) ? (origin as RunOrigin) : '',
    category: params.get('category')?.trim() ?? '',
    outcome: (TEST_OUTCOMES as readonly string[]).includes(outcome) ? (outcome as TestOutcome) : '',
    flaky: params.get('flaky') === 'true',
    quarantined: params.get('quarantined') === 'true',
  };
}

/** Writes filters as search params, leaving out empty ones, in a fixed order. The API reads the same names. */
export function testFiltersToSearch(filters: TestFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.text) params.set('text', filters.text);
  if (filters.definition) params.set('definition', filters.definition);
  if (filters.app) params.set('app', filters.app);
  if (filters.origin) params.set('origin', filters.origin);
  if (filters.category) params.set('category', filters.category);
  if (filters.outcome) params.set('outcome', filters.outcome);
  if (filters.flaky) params.set('flaky', 'true');
  if (filters.quarantined) params.set('quarantined', 'true');
  return params;
}

export const countTestFilters = (filters: TestFilters): number => [...testFiltersToSearch(filters).keys()].length;
