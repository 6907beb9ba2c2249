/**
 * The JS half of `require("postman")`: runs a Postman collection with newman, in
 * process (no subprocess, no reporters). Every request becomes a step of the run and
 * every Postman test an assertion, so a Postman failure reads like a Lua failure.
 * Stopping the run (cancel, timeout) aborts the newman run and destroys its sockets.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { EventEmitter } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type * as Newman from 'newman';
import type { LogLevel } from '../core/run-events.js';
import type { RunContext } from './run-context.js';
import { isBundlePath } from '../core/schemas/files.js';
import { guardAgent } from './egress.js';

/**
 * newman's agents: requests to a name of the run's App (`{{baseUrl}}` = `http://frontend`)
 * connect to where that service answers here (the Host header and TLS name stay the
 * URL's); every other connection passes the run's egress policy at connect time.
 */
function agentsFor(ctx: RunContext): { http: HttpAgent; https: HttpsAgent } {
  const toApp = (options: { host?: string; port?: number | string }) =>
    options.host ? ctx.resolve(options.host, options.port === undefined ? null : Number(options.port)) : null;
  return {
    http: guardAgent(new HttpAgent({ keepAlive: false }), ctx.egress, toApp),
    https: guardAgent(new HttpsAgent({ keepAlive: false }), ctx.egress, toApp),
  };
}

/** What the Lua side sends (as JSON): strings are files of the script's folder, tables are inline. */
interface PostmanSpec {
  collection: string | Record<string, unknown>;
  environment?: string | Record<string, unknown>;
  globals?: string | Record<string, unknown>;
  iterationData?: string | unknown[];
  folder?: string | string[];
  /** Per-request timeout, ms. */
  timeout: number;
  line: number | null;
  file: string | null;
}

interface AssertionRow {
  request: string;
  name: string;
  passed: boolean;
  message: string;
}

type PostmanResult =
  | { ok: true; passed: boolean; report: string }
  | { ok: false; error: string }
  | { ok: false; stopped: true; error: string };

/** A file of the script's folder (`./x` and `x` are the same), parsed as JSON. */
function loadJson(ctx: RunContext, what: string, path: string): unknown {
  const files = ctx.job.files ?? {};
  const key = path.replace(/^\.\//, '');
  const text = files[key];
  if (text === undefined) {
    const names = Object.keys(files).sort();
    throw new Error(`${what} file "${path}" not found (files next to the script: ${names.length ? names.join(', ') : 'none'})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} file "${path}" is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * A data file for iterations, as newman reads one: JSON (a list of rows), or CSV with
 * a header row — unquoted numbers become numbers, quoted values stay text.
 */
function loadIterationData(ctx: RunContext, path: string): unknown {
  const text = ctx.job.files?.[path.replace(/^\.\//, '')];
  if (text === undefined || /\.json$/i.test(path)) return loadJson(ctx, 'iterationData', path);
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: CSV
  }
  try {
    return parseCsv(text, {
      columns: true,
      cast: (value, context) => (context.quoting || !/^-?\d+(\.\d+)?$/.test(value) ? value : Number(value)),
      trim: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as unknown[];
  } catch (err) {
    throw new Error(`iterationData file "${path}" is neither JSON nor valid CSV: ${(err as Error).message}`);
  }
}

/** An environment / globals: a Postman export (`{ values = {...} }`) or a plain `{ key = value }` map. */
function variables(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray((value as { values?: unknown }).values)) return value;
  return {
    values: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
      key,
      value: typeof v === 'string' ? v : JSON.stringify(v),
      enabled: true,
    })),
  };
}

/** The files of the test's folder, for messages. */
function fileList(ctx: RunContext): string {
  const names = Object.keys(ctx.job.files ?? {}).sort();
  return names.length ? names.join(', ') : 'none';
}

/** A file source as a path of the test's folder (`./a/b` → `a/b`), or null when it points elsewhere. */
function bundlePath(ctx: RunContext, src: string): string | null {
  if (src.startsWith('/') || src.includes('\\') || /^[a-z]:/i.test(src)) return null;
  const parts: string[] = [];
  for (const part of src.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return null;
    parts.push(part);
  }
  const key = parts.join('/');
  return key && ctx.job.files?.[key] !== undefined ? key : null;
}

/**
 * Every file a request of the collection uploads (form-data files, binary bodies) must be
 * a file of the test's folder: checked before anything is sent, so the error names the
 * request and field. (What scripts change at run time is confined by newman's own
 * working-folder check, see `bundleFolder`.)
 */
function checkFileSources(ctx: RunContext, node: unknown): void {
  const items = (node as { item?: unknown }).item;
  if (!Array.isArray(items)) return;
  for (const item of items as { name?: string; request?: { body?: Record<string, unknown> }; item?: unknown }[]) {
    if (!item || typeof item !== 'object') continue;
    checkFileSources(ctx, item);
    const body = item.request && typeof item.request === 'object' ? item.request.body : undefined;
    if (!body || typeof body !== 'object' || body.disabled === true) continue;
    const refuse = (field: string, src: string) => {
      throw new Error(
        `request "${item.name ?? '?'}": ${field}: ${JSON.stringify(src)} is not a file of the test's folder ` +
          `(files a collection uploads must be in the test's folder, next to the script; files: ${fileList(ctx)})`,
      );
    };
    const check = (field: string, src: unknown) => {
      for (const one of Array.isArray(src) ? src : [src]) {
        if (typeof one === 'string' && one !== '' && bundlePath(ctx, one) === null) refuse(field, one);
      }
    };
    if (body.mode === 'formdata' && Array.isArray(body.formdata)) {
      for (const param of body.formdata as { key?: string; type?: string; src?: unknown; disabled?: boolean }[]) {
        if (param && param.type === 'file' && !param.disabled) check(`body.formdata ${JSON.stringify(param.key ?? '')}`, param.src);
      }
    } else if (body.mode === 'file' && body.file && typeof body.file === 'object') {
      check('body.file', (body.file as { src?: unknown }).src);
    }
  }
}

/**
 * The test's folder as newman's working folder: the run's files written to a fresh
 * private temporary folder. newman runs with `insecureFileRead: false`, so every file
 * it opens for a request (form-data, binary bodies) resolves inside it or is refused.
 */
async function bundleFolder(ctx: RunContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'topas-postman-'));
  try {
    for (const [path, content] of Object.entries(ctx.job.files ?? {})) {
      if (!isBundlePath(path)) continue;
      const full = join(dir, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content, { mode: 0o600 });
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/** newman's warning when a request's file could not be opened, as our failure text. */
function fileLoadFailure(text: string, workingDir: string): string | null {
  if (!/file load error|certificate .*load error|file data resolution error/i.test(text)) return null;
  const readable = text
    .split(`${workingDir}/`)
    .join('')
    .replace(/PPERM: insecure file access outside working directory/g, 'the file is outside the test\'s folder');
  return `${readable} (files must be in the test's folder, next to the script)`;
}

/** Whether a folder or request of this name (or id) is anywhere in the collection. */
function hasItem(node: unknown, name: string): boolean {
  const items = (node as { item?: unknown }).item;
  if (!Array.isArray(items)) return false;
  return items.some((it: { name?: string; id?: string }) => it?.name === name || it?.id === name || hasItem(it, name));
}

const LEVELS: Record<string, LogLevel> = { log: 'info', info: 'info', warn: 'warn', error: 'error', debug: 'debug' };

/** newman is big (~2 s to load): loaded on the first postman.run of a worker, not at worker start. */
type NewmanRun = typeof Newman.run;
let newmanRun: Promise<NewmanRun> | null = null;
function loadNewman(): Promise<NewmanRun> {
  // newman is CommonJS: its exports are the default export
  newmanRun ??= import('newman').then((m) => (m as unknown as { default: { run: NewmanRun } }).default.run);
  return newmanRun;
}

async function postmanRun(ctx: RunContext, spec: PostmanSpec): Promise<PostmanResult> {
  const signal = ctx.abort.signal;
  if (signal.aborted) return { ok: false, stopped: true, error: 'stopped' };
  const newmanRunFn = await loadNewman();
  if (signal.aborted) return { ok: false, stopped: true, error: 'stopped' };
  let collection: unknown;
  let environment: unknown;
  let globals: unknown;
  let iterationData: unknown;
  try {
    collection = typeof spec.collection === 'string' ? loadJson(ctx, 'collection', spec.collection) : spec.collection;
    if (!collection || typeof collection !== 'object') throw new Error('the collection must be a JSON object');
    if (spec.environment != null) {
      environment = variables(typeof spec.environment === 'string' ? loadJson(ctx, 'environment', spec.environment) : spec.environment);
    }
    if (spec.globals != null) {
      globals = variables(typeof spec.globals === 'string' ? loadJson(ctx, 'globals', spec.globals) : spec.globals);
    }
    if (spec.iterationData != null) {
      iterationData = typeof spec.iterationData === 'string' ? loadIterationData(ctx, spec.iterationData) : spec.iterationData;
      if (!Array.isArray(iterationData)) throw new Error('iterationData must be a list of rows');
    }
    checkFileSources(ctx, collection);
    // an unknown folder is an error, not an empty run (newman's own check also aborts on request errors)
    for (const name of spec.folder == null ? [] : Array.isArray(spec.folder) ? spec.folder : [spec.folder]) {
      if (!hasItem(collection, name)) {
        const title = (collection as { info?: { name?: string } }).info?.name;
        throw new Error(`folder or request "${name}" not found in the collection${title ? ` "${title}"` : ''}`);
      }
    }
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }

  let workingDir: string;
  try {
    workingDir = await bundleFolder(ctx);
  } catch (err) {
    return { ok: false, error: `could not prepare the test's files for newman: ${(err as Error).message}` };
  }
  if (signal.aborted) {
    await rm(workingDir, { recursive: true, force: true });
    return { ok: false, stopped: true, error: 'stopped' };
  }

  const { line, file } = spec;
  const where = line ? `${file || ctx.job.fileName}:${line}` : file || ctx.job.fileName;
  const agents = agentsFor(ctx);
  const started = performance.now();
  const assertions: AssertionRow[] = [];
  const failures: { request: string; name: string; message: string }[] = [];
  let requests = 0;
  let failedRequests = 0;
  // the open step of the current request
  let open: { seq: number; name: string; failed: string | null } | null = null;
  let finished = false;

  return new Promise<PostmanResult>((resolve) => {
    const finish = (result: PostmanResult) => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      agents.http.destroy();
      agents.https.destroy();
      void rm(workingDir, { recursive: true, force: true }).catch(() => {});
      resolve(result);
    };
    let run: { abort?: () => void } | null = null;
    const onAbort = () => {
      if (finished) return;
      try {
        run?.abort?.();
      } catch {
        // newman may already be ending
      }
      if (open) ctx.stepEnd(open.seq, 'failed', 'the run was stopped', null, null);
      open = null;
      finish({ ok: false, stopped: true, error: 'stopped' });
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const fail = (message: string) => {
      if (open && !open.failed) open.failed = message;
    };

    let emitter: EventEmitter;
    try {
      emitter = newmanRunFn(
        {
          collection: collection as Newman.NewmanRunOptions['collection'],
          environment: environment as Newman.NewmanRunOptions['environment'],
          globals: globals as Newman.NewmanRunOptions['globals'],
          iterationData: iterationData as Newman.NewmanRunOptions['iterationData'],
          folder: spec.folder,
          timeoutRequest: spec.timeout,
          requestAgents: agents,
          reporters: [],
          // files of requests resolve inside the test's folder only
          workingDir,
          insecureFileRead: false,
        },
        (err) => {
          if (finished) return;
          if (open) ctx.stepEnd(open.seq, 'failed', err?.message ?? 'the request did not finish', line, file);
          open = null;
          if (err) {
            finish({ ok: false, error: err.message });
            return;
          }
          const report = {
            requests,
            failed: failedRequests,
            assertions,
            failures,
            duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
          };
          finish({ ok: true, passed: failures.length === 0 && failedRequests === 0, report: JSON.stringify(report) });
        },
      ) as unknown as EventEmitter;
    } catch (err) {
      finish({ ok: false, error: (err as Error).message });
      return;
    }

    type Ev = { item?: { name?: string }; cursor?: { cycles?: number; iteration?: number }; run?: { abort?: () => void } };
    const live = (fn: (err: Error | null, o: Ev & Record<string, unknown>) => void) => (err: Error | null, o: Ev & Record<string, unknown>) => {
      if (finished) return;
      fn(err, o ?? {});
    };

    emitter.on('start', live((_err, o) => (run = o.run ?? null)));
    emitter.on(
      'beforeItem',
      live((_err, o) => {
        const base = o.item?.name ?? 'request';
        const cycles = o.cursor?.cycles ?? 1;
        const name = cycles > 1 ? `${base} [iteration ${(o.cursor?.iteration ?? 0) + 1}/${cycles}]` : base;
        open = { seq: ctx.stepStart('step', name, line, file), name: base, failed: null };
      }),
    );
    emitter.on(
      'request',
      live((err, o) => {
        requests++;
        const req = o.request as { method?: string; url?: { toString(): string } } | undefined;
        const label = `${req?.method ?? 'GET'} ${req?.url?.toString() ?? ''}`;
        if (err) {
          const message = `${label}: ${err.message}`;
          ctx.log('error', message);
          failures.push({ request: open?.name ?? '', name: 'request', message });
          fail(`${where}: postman: ${open?.name ?? ''}: ${message}`);
          return;
        }
        const res = o.response as { code?: number; status?: string; responseTime?: number } | undefined;
        ctx.log('info', `${label} → ${res?.code ?? '?'} ${res?.status ?? ''} (${res?.responseTime ?? '?'} ms)`);
      }),
    );
    emitter.on(
      'assertion',
      live((err, o) => {
        if (o.skipped) return;
        const request = o.item?.name ?? open?.name ?? '';
        const name = String(o.assertion ?? 'test');
        const passed = !err;
        const message = `${request} › ${name}${err ? `: ${err.message}` : ''}`;
        assertions.push({ request, name, passed, message });
        if (!passed) {
          failures.push({ request, name, message });
          fail(`${where}: postman: ${message}`);
        }
        ctx.assertion(passed, `postman: ${message}`, line, passed ? null : `${where}: postman: ${message}`, { file });
      }),
    );
    emitter.on(
      'exception',
      live((_err, o) => {
        const e = o.error as { name?: string; message?: string } | undefined;
        const message = `${open?.name ?? 'collection'}: script error: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`;
        ctx.log('error', `postman: ${message}`);
        failures.push({ request: open?.name ?? '', name: 'script', message });
        fail(`${where}: postman: ${message}`);
      }),
    );
    emitter.on(
      'console',
      live((_err, o) => {
        const messages = (o.messages as unknown[] | undefined) ?? [];
        const text = messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
        const refused = fileLoadFailure(text, workingDir);
        if (refused) {
          ctx.log('error', `postman: ${open?.name ?? 'collection'}: ${refused}`);
          failures.push({ request: open?.name ?? '', name: 'file', message: refused });
          fail(`${where}: postman: ${open?.name ?? ''}: ${refused}`);
          return;
        }
        ctx.log(LEVELS[String(o.level)] ?? 'info', text);
      }),
    );
    emitter.on(
      'item',
      live(() => {
        if (!open) return;
        if (open.failed) failedRequests++;
        ctx.stepEnd(open.seq, open.failed ? 'failed' : 'passed', open.failed, line, file);
        open = null;
      }),
    );
  });
}

export function createPostmanHost(ctx: () => RunContext) {
  return {
    postman_run: (specJson: string) => postmanRun(ctx(), JSON.parse(specJson) as PostmanSpec),
  };
}
