/** Typed calls to every endpoint the dashboard uses, one function per endpoint. */
import { request, withQuery } from './http';
import type {
  App,
  CategoryApplyJob,
  CategoryBreakdown,
  CategoryPreview,
  CategoryRule,
  CategoryRulesState,
  DefinitionListItem,
  ResourceProfileInsight,
  RunResults,
  TestDetail,
  TestResultItem,
  TestSummary,
  CompareResult,
  CreateRunRequest,
  Definition,
  DefinitionInput,
  Identity,
  LogPage,
  Page,
  Run,
  RunDetail,
  RunListItem,
  Stats,
  TopTests,
  Trends,
} from './types';

const id = encodeURIComponent;

export const api = {
  /** Who the dashboard is signed in as; 401 when it is not. */
  session: (signal?: AbortSignal) => request<Identity>('/api/session', { signal }),
  /** Exchanges a token for a session cookie (HttpOnly, SameSite=Strict). */
  login: (token: string) => request<Identity>('/api/session', { body: { token } }),
  logout: () => request<void>('/api/session', { method: 'DELETE' }),

  listRuns: (query: URLSearchParams, signal?: AbortSignal) => request<Page<RunListItem>>(`/api/runs?${query}`, { signal }),
  getRun: (runId: string, signal?: AbortSignal) => request<RunDetail>(`/api/runs/${id(runId)}`, { signal }),
  getLogs: (runId: string, after: number, limit: number, signal?: AbortSignal) =>
    request<LogPage>(withQuery(`/api/runs/${id(runId)}/logs`, { after, limit }), { signal }),
  createRun: (body: CreateRunRequest) => request<Run>('/api/runs', { body }),
  cancelRun: (runId: string) => request<Run>(`/api/runs/${id(runId)}/cancel`, { method: 'POST' }),
  rerun: (runId: string, env?: Record<string, string>) => request<Run>(`/api/runs/${id(runId)}/rerun`, { body: env ? { origin: 'ui', env } : { origin: 'ui' } }),
  results: (runId: string, signal?: AbortSignal) => request<RunResults>(`/api/runs/${id(runId)}/results.json`, { signal }),
  compare: (headId: string, withRef: string, signal?: AbortSignal) =>
    request<CompareResult>(withQuery(`/api/runs/${id(headId)}/compare`, { with: withRef }), { signal }),

  listDefinitions: (query: { q?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    request<Page<DefinitionListItem>>(withQuery('/api/definitions', { q: query.q, cursor: query.cursor, limit: query.limit }), { signal }),
  getDefinition: (ref: string, signal?: AbortSignal) => request<Definition>(`/api/definitions/${id(ref)}`, { signal }),
  createDefinition: (body: DefinitionInput) => request<Definition>('/api/definitions', { body }),
  replaceDefinition: (ref: string, body: DefinitionInput) => request<Definition>(`/api/definitions/${id(ref)}`, { method: 'PUT', body }),
  deleteDefinition: (ref: string) => request<void>(`/api/definitions/${id(ref)}`, { method: 'DELETE' }),
  runDefinition: (ref: string, body: { env?: Record<string, string> }) =>
    request<Run>(`/api/definitions/${id(ref)}/runs`, { body: { ...body, origin: 'ui' } }),

  stats: (signal?: AbortSignal) => request<Stats>('/api/stats', { signal }),
  health: (signal?: AbortSignal) => request<{ status: 'ok' }>('/healthz', { signal }),
  trends: (query: { from: string; to: string; bucket: 'hour' | 'day'; definitionId?: string; appName?: string }, signal?: AbortSignal) =>
    request<Trends>(withQuery('/api/insights/trends', { ...query }), { signal }),
  top: (query: { from: string; to: string; limit: number }, signal?: AbortSignal) =>
    request<TopTests>(withQuery('/api/insights/top', { ...query }), { signal }),
  apps: (signal?: AbortSignal) => request<{ items: App[] }>('/api/apps', { signal }),

  /** Test cases across runs, newest last run first; `query` holds the filters, `cursor` and `limit`. */
  listTests: (query: URLSearchParams, signal?: AbortSignal) => request<Page<TestSummary>>(`/api/tests?${query}`, { signal }),
  getTest: (testId: string, signal?: AbortSignal) => request<TestDetail>(`/api/tests/${id(testId)}`, { signal }),
  testHistory: (testId: string, cursor: string | null, limit: number, signal?: AbortSignal) =>
    request<Page<TestResultItem>>(withQuery(`/api/tests/${id(testId)}/history`, { cursor, limit }), { signal }),
  quarantine: (testId: string, reason: string) => request<TestSummary>(`/api/tests/${id(testId)}/quarantine`, { method: 'PUT', body: { reason } }),
  unquarantine: (testId: string) => request<TestSummary>(`/api/tests/${id(testId)}/quarantine`, { method: 'DELETE' }),

  categories: (signal?: AbortSignal) => request<CategoryRulesState>('/api/categories', { signal }),
  saveCategories: (rules: CategoryRule[]) => request<CategoryRulesState>('/api/categories', { method: 'PUT', body: { rules } }),
  previewCategories: (rules: CategoryRule[], limit: number) => request<CategoryPreview>('/api/categories/preview', { body: { rules, limit } }),
  applyCategories: (since: string) => request<{ job: CategoryApplyJob }>(withQuery('/api/categories/apply', { since }), { method: 'POST' }),
  categoryJob: (jobId: string, signal?: AbortSignal) => request<{ job: CategoryApplyJob }>(`/api/categories/apply/${id(jobId)}`, { signal }),
  categoryBreakdown: (query: { from: string; to: string; bucket: 'hour' | 'day' }, signal?: AbortSignal) =>
    request<CategoryBreakdown>(withQuery('/api/insights/categories', { ...query }), { signal }),
  resourceProfile: (signal?: AbortSignal) => request<ResourceProfileInsight>('/api/insights/profile', { signal }),
};
