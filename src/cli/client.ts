/**
 * The CLI's HTTP client of the topas API. Turns transport failures and error
 * answers into CliErrors whose messages say what to do next.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { App } from '../core/app.js';
import type { TestSummary } from '../core/test-summary.js';
import type { TestDefinition } from '../core/definition.js';
import type { AssertionRecord, LogLine, StepRecord } from '../core/run-events.js';
import type { Run } from '../core/run.js';
import type { ResourceProfileReport } from '../core/resource-profile.js';
import type { RunListItem } from '../core/run-view.js';
import { ApiError, CliError } from './cli-error.js';
import { readSse } from './sse.js';
import type { Credential } from './credentials.js';
import type { Identity } from '../core/roles.js';
import type { TokenRecord } from '../core/token.js';
import type { CategoryRules } from '../core/categories.js';
import type { StoredCategoryRules as CategoryRulesState } from '../store/category-sql.js';
import type { CategoryApplyJob } from '../server/category-apply-jobs.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:4000';

/** What `POST /api/reports` answers: the run the reports became and what they held. */
export interface ImportAnswer {
  run: Run;
  counts: { tests: number; passed: number; failures: number; errors: number; skipped: number; flaky: number };
  files: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A run with its steps and assertions, as `GET /api/runs/{id}` answers. */
export type RunDetail = Run & { steps: StepRecord[]; assertions: AssertionRecord[] };

/** What the run stream delivers, decoded. */
export type StreamEvent =
  | { type: 'log'; line: LogLine }
  | { type: 'step'; step: StepRecord }
  /** The events before it are a complete batch (see the API's `sync` event). */
  | { type: 'sync' }
  | { type: 'phase'; run: Run }
  | { type: 'end'; run: Run };

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Why a connection failed, in words. */
function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out';
    default:
      return cause?.message ?? (err as Error).message;
  }
}

/** A token as `POST /api/tokens` answers it: with its secret, this once. */
export interface CreatedToken {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  token: string;
}

export class TopasClient {
  readonly baseUrl: string;
  readonly credential: Credential;

  constructor(baseUrl: string, credential: Credential = { token: null, source: 'no token given' }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.credential = credential;
  }

  /** What to do about a 401 or 403, after the server's own message. */
  private authHint(status: number): string {
    const { token, source } = this.credential;
    if (status === 401 && token === null) {
      return `(${source}) — pass --token TOKEN or set TOPAS_TOKEN, or run the command where topas keeps its data (TOPAS_DATA_DIR or ./.topas); an admin makes tokens with: npx topas token create --role runner --name NAME`;
    }
    if (status === 401) return `(the token from ${source} was refused) — pass another with --token or TOPAS_TOKEN`;
    return `(token from ${token === null ? 'nowhere' : source}) — use a token with that role (--token or TOPAS_TOKEN); an admin makes one with: npx topas token create --role ROLE --name NAME`;
  }

  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      const headers = new Headers(init.headers);
      if (this.credential.token) headers.set('authorization', `Bearer ${this.credential.token}`);
      res = await fetch(this.baseUrl + path, { ...init, headers });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new CliError(
        `cannot reach topas at ${this.baseUrl} (${describeNetworkError(err)}) — start it with "npx topas up" or set TOPAS_URL`,
      );
    }
    if (res.ok) return res;
    const text = await res.text();
    let code = `HTTP${res.status}`;
    let message = `${init.method ?? 'GET'} ${path} failed: HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error?.message) ({ code = code, message } = { code: body.error.code, message: body.error.message });
    } catch {
      // not JSON: keep the raw text in the message
    }
    if (res.status === 401 || res.status === 403) message = `${message} ${this.authHint(res.status)}`;
    throw new ApiError(res.status, code, message);
  }

  private async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.fetch(path, init)).json()) as T;
  }

  private send<T>(method: string, path: string, body: unknown): Promise<T> {
    return this.json<T>(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /** PUT an App manifest; `created` tells 201 from 200. */
  async applyApp(name: string, manifest: unknown): Promise<{ app: App; created: boolean }> {
    const res = await this.fetch(`/api/apps/${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(manifest),
    });
    return { app: (await res.json()) as App, created: res.status === 201 };
  }

  async getApp(name: string): Promise<App> {
    try {
      return await this.json<App>(`/api/apps/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`App ${name} not found (list them with: topas app status)`);
      throw err;
    }
  }

  async listApps(): Promise<App[]> {
    return (await this.json<{ items: App[] }>('/api/apps')).items;
  }

  async deleteApp(name: string): Promise<void> {
    try {
      await this.fetch(`/api/apps/${encodeURIComponent(name)}`, { method: 'DELETE' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`App ${name} not found`);
      throw err;
    }
  }

  createRun(body: Record<string, unknown>): Promise<Run> {
    return this.send('POST', '/api/runs', body);
  }

  async getRun(id: string): Promise<RunDetail> {
    try {
      return await this.json<RunDetail>(`/api/runs/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`run ${id} not found`);
      throw err;
    }
  }

  /** Runs as lists show them: without the script and files (read one run for those). */
  listRuns(query: Record<string, string | number | undefined>): Promise<Page<RunListItem>> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    return this.json(`/api/runs?${params}`);
  }

  /**
   * Uploads report files (`POST /api/reports`) as one multipart body, streamed from
   * disk part by part (never read whole); the server makes one run of them.
   */
  importReports(query: [string, string][], files: { path: string; name: string }[]): Promise<ImportAnswer> {
    const boundary = `topas-${randomBytes(12).toString('hex')}`;
    async function* parts(): AsyncIterable<Uint8Array> {
      for (const file of files) {
        const name = file.name.replace(/["\r\n\\]/g, '_');
        yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
        for await (const chunk of createReadStream(file.path, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
        yield Buffer.from('\r\n');
      }
      yield Buffer.from(`--${boundary}--\r\n`);
    }
    return this.json<ImportAnswer>(`/api/reports?${new URLSearchParams(query)}`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.toWeb(Readable.from(parts())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
  }

  /** A run's JUnit XML report. */
  async runJUnit(id: string): Promise<string> {
    try {
      return await (await this.fetch(`/api/runs/${encodeURIComponent(id)}/junit.xml`)).text();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`run ${id} not found`);
      throw err;
    }
  }

  /** One JUnit XML report for the runs the run-list filters select (repeat `label`); `truncated` when the server's cap left runs out. */
  async junitReport(query: [string, string][]): Promise<{ xml: string; truncated: boolean }> {
    const res = await this.fetch(`/api/junit.xml?${new URLSearchParams(query)}`);
    return { xml: await res.text(), truncated: res.headers.get('x-topas-runs-truncated') === 'true' };
  }

  /** The failure-category rules in force (`GET /api/categories`). */
  getCategories(): Promise<CategoryRulesState> {
    return this.json('/api/categories');
  }

  /** Replaces the failure-category rules (`PUT /api/categories`, editor). */
  putCategories(rules: CategoryRules): Promise<CategoryRulesState> {
    return this.send('PUT', '/api/categories', rules);
  }

  /** Starts re-categorizing past failures since `since` (all when null); returns the job. */
  async applyCategories(since: string | null): Promise<CategoryApplyJob> {
    const query = since ? `?since=${encodeURIComponent(since)}` : '';
    return (await this.json<{ job: CategoryApplyJob }>(`/api/categories/apply${query}`, { method: 'POST' })).job;
  }

  async categoryJob(id: string): Promise<CategoryApplyJob> {
    return (await this.json<{ job: CategoryApplyJob }>(`/api/categories/apply/${encodeURIComponent(id)}`)).job;
  }

  /** A run's test cases with their categories (`results.json`), as the server wrote it. */
  async runResults(id: string): Promise<string> {
    try {
      return await (await this.fetch(`/api/runs/${encodeURIComponent(id)}/results.json`)).text();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`run ${id} not found`);
      throw err;
    }
  }

  /** What runs use per test, and how many fit at once (`GET /api/insights/profile`). */
  resourceProfile(query: Record<string, string | undefined>): Promise<ResourceProfileReport> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
    return this.json(`/api/insights/profile?${params}`);
  }

  cancelRun(id: string): Promise<Run> {
    return this.send('POST', `/api/runs/${encodeURIComponent(id)}/cancel`, {});
  }

  /** A page of log lines; `notice` says why there are none when log retention deleted them. */
  getLogs(id: string, after: number, limit = 1000): Promise<{ items: LogLine[]; nextSeq: number; logsExpiredAt?: string | null; notice?: string | null }> {
    return this.json(`/api/runs/${encodeURIComponent(id)}/logs?after=${after}&limit=${limit}`);
  }

  whoAmI(): Promise<Identity> {
    return this.json('/api/session');
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.json<{ items: TokenRecord[] }>('/api/tokens')).items;
  }

  createToken(name: string, role: string): Promise<CreatedToken> {
    return this.send('POST', '/api/tokens', { name, role });
  }

  async revokeToken(idOrName: string): Promise<void> {
    try {
      await this.fetch(`/api/tokens/${encodeURIComponent(idOrName)}`, { method: 'DELETE' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`token ${idOrName} not found (list them with: topas token list)`);
      throw err;
    }
  }

  async loginUrl(): Promise<string> {
    return (await this.send<{ url: string }>('POST', '/api/session/login-links', {})).url;
  }

  /** A page of `GET /api/tests` (filters as query parameters). */
  listTests(query: Record<string, string | undefined>): Promise<Page<TestSummary>> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.json(`/api/tests?${params.toString()}`);
  }

  quarantineTest(id: string, reason: string): Promise<TestSummary> {
    return this.send('PUT', `/api/tests/${encodeURIComponent(id)}/quarantine`, { reason });
  }

  releaseTest(id: string): Promise<TestSummary> {
    return this.json(`/api/tests/${encodeURIComponent(id)}/quarantine`, { method: 'DELETE' });
  }

  listDefinitions(cursor?: string | null): Promise<Page<TestDefinition>> {
    return this.json(`/api/definitions?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  }

  /** Every stored definition (they are few: one per test, not per run). */
  async allDefinitions(): Promise<TestDefinition[]> {
    const all: TestDefinition[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<TestDefinition> = await this.listDefinitions(cursor);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  /**
   * A definition id from what the user typed: its name, its full id, or a unique
   * prefix of at least 8 characters of its id (what `test list` shows). A name wins
   * over an id prefix that happens to spell it.
   */
  async resolveDefinitionId(input: string): Promise<string> {
    const typed = input.trim();
    if (FULL_ID.test(typed.toLowerCase())) return typed.toLowerCase();
    const all = await this.allDefinitions();
    const named = all.find((d) => d.name === typed);
    if (named) return named.id;
    const prefix = typed.toLowerCase();
    const matches = /^[0-9a-f-]{8,}$/.test(prefix) ? all.filter((d) => d.id.startsWith(prefix)) : [];
    if (matches.length === 1) return matches[0]!.id;
    if (matches.length > 1) {
      const list = matches.slice(0, 5).map((d) => `  ${d.id}  ${d.name}`).join('\n');
      throw new CliError(`definition id ${input} is ambiguous; it matches:\n${list}\ngive more characters of the id, or the name`);
    }
    throw new CliError(`definition ${input} not found; give its name, its id or the ID column of "topas test list"`);
  }

  /**
   * Follows a run until it ends: log lines, step changes and phase changes, then
   * `end`. Reconnects from the last log seq when the connection drops.
   */
  async *follow(id: string, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
    let lastSeq = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.fetch(`/api/runs/${encodeURIComponent(id)}/logs?follow=true`, {
          headers: { accept: 'text/event-stream', 'last-event-id': String(lastSeq) },
          signal,
        });
        for await (const message of readSse(res.body!)) {
          attempt = 0;
          const data = JSON.parse(message.data);
          if (message.event === 'log') {
            lastSeq = (data as LogLine).seq;
            yield { type: 'log', line: data };
          } else if (message.event === 'step') yield { type: 'step', step: data };
          else if (message.event === 'sync') yield { type: 'sync' };
          else if (message.event === 'phase') yield { type: 'phase', run: data };
          else if (message.event === 'end') {
            yield { type: 'end', run: data };
            return;
          }
        }
      } catch (err) {
        if (err instanceof ApiError || signal?.aborted) throw err;
        if (attempt >= 5) throw err;
      }
      // The stream closed without `end` (server restart, proxy timeout): resume.
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 3000)));
    }
  }

  /**
   * A run id from what the user typed: the full id, or a unique prefix of at
   * least 8 characters. Ids are UUIDv7, so a prefix also tells when the run was
   * created; the search looks there first.
   */
  async resolveRunId(input: string): Promise<string> {
    const prefix = input.trim().toLowerCase();
    if (FULL_ID.test(prefix)) return prefix;
    if (!/^[0-9a-f-]+$/.test(prefix)) throw new CliError(`run ${input} not found (run ids are UUIDs such as 0190f3c2-5d1e-7...)`);
    if (prefix.replace(/-/g, '').length < 8) throw new CliError(`run id prefix ${input} is too short; give at least 8 characters`);
    const hex8 = prefix.slice(0, 8);
    const t0 = parseInt(hex8, 16) * 2 ** 16;
    const slack = 10 * 60_000;
    const window = { since: new Date(t0 - slack).toISOString(), until: new Date(t0 + 2 ** 16 + slack).toISOString() };
    let matches = await this.scanRuns(prefix, window, 20);
    if (!matches.length) matches = await this.scanRuns(prefix, {}, 10);
    if (!matches.length) throw new CliError(`run ${input} not found`);
    if (matches.length > 1) {
      const list = matches.slice(0, 5).map((r) => `  ${r.id}  ${r.name}`).join('\n');
      throw new CliError(`run id ${input} is ambiguous; it matches:\n${list}\ngive more characters of the id`);
    }
    return matches[0]!.id;
  }

  private async scanRuns(prefix: string, query: Record<string, string>, maxPages: number): Promise<RunListItem[]> {
    if (query.since && Number.isNaN(Date.parse(query.since))) return [];
    const matches: RunListItem[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < maxPages; page++) {
      const res: Page<RunListItem> = await this.listRuns({ ...query, limit: 1000, cursor: cursor ?? undefined });
      matches.push(...res.items.filter((r) => r.id.startsWith(prefix)));
      if (matches.length > 1 || !res.nextCursor) break;
      cursor = res.nextCursor;
    }
    return matches;
  }
}
