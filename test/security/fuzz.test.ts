/**
 * The HTTP API under a fuzzer: every operation of `/openapi.json`, a few thousand
 * generated requests (wrong types, boundaries, NUL, lone surrogates, 10k-deep JSON,
 * bodies over the limit, bad cursors, traversal in names and file paths, unknown
 * fields) against a real in-memory app on a real PGlite store, engine, Lua executor
 * and App controller. Nothing may answer 5xx, a rejected request must store nothing,
 * no run may be left Running, and the server must still be healthy afterwards. The same
 * seeded requests go to a fresh PostgreSQL database too when TEST_DATABASE_URL is set
 * (the production store: its driver and server, not PGlite, see every hostile value).
 *
 * Reproduce a failure with the seed it prints: `FUZZ_SEED=1234 npx vitest run test/security/fuzz.test.ts`.
 * `FUZZ_REQUESTS` sets how many requests (default 2500).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppController } from '../../src/apps/app-controller.js';
import { LocalAppRuntime } from '../../src/apps/local/local-app-runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/server/app.js';
import { openTestPlatform, type TestPlatform } from '../../src/server/testing/test-platform.js';
import { mintToken } from '../../src/server/testing/test-client.js';
import { startTestDatabase, type TestDatabase } from '../../src/runner/testing/test-database.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2500);

/** Headers every request carries: an admin token (set in beforeAll), so every route is reached past authentication. */
const HEADERS: Record<string, string> = {};

let platform: TestPlatform;
let apps: AppController;
let app: ReturnType<typeof createApp>;
let dataDir: string;

interface FuzzRequest {
  method: string;
  /** Path and query, already encoded. */
  url: string;
  body?: string | Uint8Array;
  contentType?: string;
}

/** Every request goes through here, with the headers from one place. */
async function send(req: FuzzRequest): Promise<Response> {
  const headers: Record<string, string> = { ...HEADERS };
  if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  return app.request(req.url, { method: req.method, headers, body: req.body as BodyInit | undefined });
}

// --- a seeded PRNG -------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Restarted for each store (`beforeAll`), so both see the same requests. */
let random = mulberry32(SEED);
const chance = (p: number) => random() < p;
const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

// --- hostile values ------------------------------------------------------------

const LONG = 'a'.repeat(5000);
const HUGE_STRING = 'x'.repeat(1_100_000);
const deepJson = (n: number) => '['.repeat(n) + ']'.repeat(n);
const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** Hostile JSON values, for any field. */
const EVIL_VALUES: unknown[] = [
  null, true, false, 0, -1, 1, 1.5, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e308, -1e-308, 65535, 65536, 86400, 86401,
  '', ' ', '0', '-1', 'true', '\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\udbff\udfff', '😀', '\u202e', LONG,
  '../../etc/passwd', '/etc/passwd', '..\\..\\windows', '%2e%2e%2f', '..%2F..%2F', 'a/b', '.', '..', '${port}', "' OR 1=1 --",
  '<script>alert(1)</script>', 'a=b', 'UPPER', '-leading', 'trailing-', 'app.kubernetes.io/name', 'x'.repeat(64), 'x'.repeat(254),
  [], [1], ['a'], [null], {}, { a: 1 }, { '': '' }, { '\u0000': 'x' }, { a: '\ud800' },
];

/** Hostile record keys (env names, label keys, bundle paths). */
const EVIL_KEYS = [
  '', '\u0000', 'a\u0000', '\ud800', '../x', '../../etc/passwd', '/etc/passwd', 'C:\\x', 'a/../b', './a', 'a//b', '__proto__', 'constructor',
  'x'.repeat(300), 'p/' + 'x'.repeat(64), 'a'.repeat(254) + '/x', 'A-B', '1abc', 'ok_name', 'app.kubernetes.io/name', LONG,
];

/** Hostile path segments (already URL-encoded). Traversal targets name nothing that exists. */
const EVIL_SEGMENTS = [
  '%00', 'a%00b', '%ED%A0%80', '%FF', '%C0%AE%C0%AE', '..%2F..%2Ftopas-fuzz-nowhere', '..%2F..%2F..%2F..%2Ftmp%2Ftopas-fuzz-nowhere',
  '%2Ftmp%2Ftopas-fuzz-nowhere', '..', '.', '%2E%2E', LONG, encodeURIComponent("1' or 1=1"), '00000000-0000-0000-0000-000000000000',
  'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ', 'UPPER', '-x', 'x-', 'a'.repeat(64), encodeURIComponent('😀'), '%20',
];

/** Hostile query values (already URL-encoded). */
const EVIL_QUERY_VALUES = [
  '%00', 'a%00', '%ED%A0%80', '%FF', '', '0', '-1', '1.5', '9007199254740993', '1e400', 'NaN', 'Infinity', 'true', LONG,
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '275760-09-13T00:00:00Z', '2025-02-30', 'yesterday', 'a=b', '=b', 'a=', 'k=%00', 'k=%ED%A0%80',
  encodeURIComponent('x'.repeat(64) + '=v'), encodeURIComponent('app.kubernetes.io/name=' + 'v'.repeat(64)), '..%2F..%2Fetc%2Fpasswd', 'Failed,Error,Nope', 'previous',
];

/** Cursors no page ever returned. */
const BAD_CURSORS = [
  'abc', '%00', LONG, b64('["x","y"]'), b64('["0000-01-01T00:00:00.000Z","x"]'), b64('["2025-01-01T00:00:00.000Z","\\u0000"]'),
  b64('["March 7","x"]'), b64('[1,2]'), b64('{"a":1}'), b64('null'), b64('"\\ud800"'), b64(deepJson(10_000)), b64('["\\u0000"]'), b64('[]'),
  b64('["2025-01-01T00:00:00.000Z"]'), b64('["x","y","z"]'),
];

// --- the OpenAPI document --------------------------------------------------------

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
};
interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string }[];
  body: Schema | null;
}

let components: Record<string, Schema> = {};
const resolve = (s: Schema): Schema => (s.$ref ? resolve(components[s.$ref.split('/').pop()!]!) : s);

/** A value the schema probably accepts: its example, else one built from its type. */
function sample(schema: Schema, depth = 0): unknown {
  const s = resolve(schema);
  if (s.example !== undefined && chance(0.7)) return structuredClone(s.example);
  if (s.const !== undefined) return s.const;
  if (s.enum) return pick(s.enum);
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return sample(pick(variants), depth);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(s.properties ?? {})) {
        if (s.required?.includes(name) || (depth < 4 && chance(0.5))) out[name] = sample(prop, depth + 1);
      }
      if (s.additionalProperties && typeof s.additionalProperties === 'object' && chance(0.5)) out.key1 = sample(s.additionalProperties, depth + 1);
      return out;
    }
    case 'array':
      return s.items && depth < 4 ? [sample(s.items, depth + 1)] : [];
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return chance(0.5);
    case 'string':
      if (s.pattern?.startsWith('^\\/')) return '/healthz';
      return 'fuzz1';
    default:
      return 'fuzz1';
  }
}

/** Replaces, adds or deletes one value somewhere inside `value`. */
function mutate(value: unknown, depth = 0): unknown {
  const here = depth > 0 && chance(0.3);
  if (here || value === null || typeof value !== 'object') return pick(EVIL_VALUES);
  if (Array.isArray(value)) {
    if (value.length === 0 || chance(0.2)) return chance(0.5) ? [...value, pick(EVIL_VALUES)] : Array.from({ length: 60 }, () => value[0] ?? 1);
    const i = Math.floor(random() * value.length);
    const copy = [...value];
    copy[i] = mutate(copy[i], depth + 1);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const roll = random();
  if (roll < 0.12) copy[pick(EVIL_KEYS)] = pick(['x', '', 'v1', ...EVIL_VALUES.slice(0, 12)]);
  else if (roll < 0.18) copy.unknownField = pick(EVIL_VALUES);
  else if (roll < 0.22) for (let i = 0; i < pick([65, 300, 501]); i++) copy[`k${i}`] = 'v';
  else if (roll < 0.26 && keys.length) delete copy[pick(keys)];
  else if (keys.length) {
    const k = pick(keys);
    copy[k] = mutate(copy[k], depth + 1);
  } else copy[pick(EVIL_KEYS)] = pick(EVIL_VALUES);
  return copy;
}

// --- fixtures, so valid ids reach deeper code ----------------------------------

const fixtures = { runId: '', definition: 'fuzz-def', app: 'fuzz-app' };

function pathValue(op: Operation, name: string): string {
  if (chance(0.55)) return pick(EVIL_SEGMENTS);
  if (name === 'id') return fixtures.runId;
  if (name === 'idOrName') return fixtures.definition;
  if (name === 'name') return chance(0.5) ? fixtures.app : 'fuzz-other';
  return 'fuzz1';
}

function queryValue(name: string): string {
  if (name === 'cursor' && chance(0.7)) return pick(BAD_CURSORS);
  if (chance(0.7)) return pick(EVIL_QUERY_VALUES);
  return pick(['1', '10', 'Failed', 'api', 'team=payments', '2025-01-01T00:00:00Z', 'fuzz', 'day', 'previous', fixtures.runId]);
}

/** One generated request for an operation. */
function generate(op: Operation): FuzzRequest {
  let path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => pathValue(op, name));
  const query: string[] = [];
  for (const p of op.params.filter((p) => p.in === 'query')) if (chance(0.35)) query.push(`${p.name}=${queryValue(p.name)}`);
  if (chance(0.08)) query.push(`${pick(['unknown', '%00', 'a%ED%A0%80', LONG.slice(0, 300)])}=${pick(EVIL_QUERY_VALUES)}`);
  if (chance(0.05) && op.params.length) query.push(`${op.params[0]!.name}=1`, `${op.params[0]!.name}=2`);
  if (query.length) path += `?${query.join('&')}`;
  const req: FuzzRequest = { method: op.method.toUpperCase(), url: path };
  if (op.body) {
    const roll = random();
    if (roll < 0.04) req.body = deepJson(pick([10_000, 100_000]));
    else if (roll < 0.07) req.body = `{"a":${deepJson(10_000)}}`;
    else if (roll < 0.1) req.body = pick(['{"script":', '{', '', 'null', '[]', '"x"', '1', '{"a":1,}', "{'a':1}", '\ufeff{}', '{"script":"a\u0000b"}']);
    else if (roll < 0.12) req.body = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0xff, 0x22, 0x7d]);
    else if (roll < 0.14) {
      req.body = JSON.stringify(sample(op.body));
      req.contentType = pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/foo+json']);
    } else if (roll < 0.17) req.body = JSON.stringify({ ...(sample(op.body) as object), huge: HUGE_STRING });
    else {
      let body = sample(op.body);
      for (let i = 0, n = 1 + Math.floor(random() * 2); i < n; i++) body = mutate(body);
      req.body = JSON.stringify(body);
    }
  }
  return req;
}

// --- state that a rejected request must not change ------------------------------

async function fingerprint(): Promise<string> {
  const rows = await platform.sql.query<Record<string, unknown>>(
    `SELECT (SELECT count(*) FROM runs)::text AS runs,
            (SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM test_definitions) AS definitions,
            (SELECT count(*)::text || '/' || coalesce(sum(generation)::text, '') || '/' || coalesce(md5(string_agg(labels::text || annotations::text, ',' ORDER BY name)), '') FROM apps) AS apps`,
  );
  return JSON.stringify(rows.rows[0]);
}

/** Where the requests go: PGlite always, PostgreSQL when the environment names a server. */
const STORES: [store: string, admin: string | null][] = [
  ['PGlite', null],
  ...(process.env.TEST_DATABASE_URL ? [['PostgreSQL', process.env.TEST_DATABASE_URL] as [string, string]] : []),
];
if (!process.env.TEST_DATABASE_URL) {
  describe.skip('the API under a fuzzer, on PostgreSQL (skipped: set TEST_DATABASE_URL=postgres://user@host:5432/db to run it)', () => {
    it('needs TEST_DATABASE_URL', () => {});
  });
}

describe.each(STORES)('the API under a fuzzer, on %s', (_store, admin) => {
  let database: TestDatabase | null = null;

  beforeAll(async () => {
    random = mulberry32(SEED);
    database = admin ? await startTestDatabase('topas_fuzz') : null;
    platform = await openTestPlatform({ concurrency: 2, databaseUrl: database?.url });
    dataDir = await mkdtemp(join(tmpdir(), 'topas-fuzz-'));
    const runtime = new LocalAppRuntime({ stateDir: join(dataDir, 'apps'), databaseEngine: 'pglite' });
    apps = new AppController({ store: platform.store, runtime, defaultBaseDir: dataDir });
    app = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), apps, followPollMs: 20, heartbeatMs: 50 });
    HEADERS.authorization = `Bearer ${await mintToken(platform.store, 'admin')}`;
  });

  afterAll(async () => {
    await apps?.close();
    await platform?.close();
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(`answers every generated request without a 5xx and stores nothing it rejects (seed ${SEED})`, { timeout: 180_000 }, async () => {
    const doc = (await (await send({ method: 'GET', url: '/openapi.json' })).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
      components: { schemas: Record<string, Schema> };
    };
    components = doc.components.schemas;
    const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method,
        path,
        params: op.parameters ?? [],
        body: op.requestBody?.content['application/json']?.schema ?? null,
      })),
    );
    expect(operations.length).toBeGreaterThan(15);

    // Something real to point at: a finished run, a definition, an App without processes.
    const run = await send({ method: 'POST', url: '/api/runs', body: JSON.stringify({ script: 'print("fixture")', labels: { team: 'fuzz' } }) });
    expect(run.status).toBe(201);
    fixtures.runId = ((await run.json()) as { id: string }).id;
    await platform.waitForEnd(fixtures.runId, 30_000);
    expect((await send({ method: 'POST', url: '/api/definitions', body: JSON.stringify({ name: fixtures.definition, script: 'print(1)' }) })).status).toBe(201);
    expect((await send({ method: 'PUT', url: `/api/apps/${fixtures.app}`, body: JSON.stringify({ spec: { services: [], databases: [] } }) })).status).toBe(201);

    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    const describeReq = (req: FuzzRequest) =>
      `${req.method} ${req.url.slice(0, 160)}${req.body === undefined ? '' : ` body=${(typeof req.body === 'string' ? req.body : `<${req.body.length} bytes>`).slice(0, 200)}`}`;
    const HUGE_BODY = `{"script":"${'x'.repeat(9 * 1024 * 1024)}"}`;

    // Only requests change what is stored, so the state after one request is the state before the next.
    let before = await fingerprint();
    const started = Date.now();
    for (let i = 0; i < REQUESTS && failures.length < 20; i++) {
      const op = operations[i % operations.length]!;
      const req = i < operations.length && op.body ? { ...generate(op), body: HUGE_BODY, contentType: undefined } : generate(op);
      let res: Response;
      try {
        res = await send(req);
      } catch (error) {
        failures.push(`threw ${String(error)}: ${describeReq(req)}`);
        before = await fingerprint();
        continue;
      }
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const text = (res.headers.get('content-type') ?? '').includes('text/event-stream') ? (await res.body?.cancel(), '') : await res.text();
      const after = await fingerprint();
      if (res.status >= 500) failures.push(`${res.status}: ${describeReq(req)} → ${text.slice(0, 300)}`);
      else if (res.status >= 400) {
        if (after !== before) failures.push(`${res.status} but stored something (${before} → ${after}): ${describeReq(req)} → ${text.slice(0, 200)}`);
        const error = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (!error.error?.code || !error.error.message) failures.push(`${res.status} without an error body: ${describeReq(req)} → ${text.slice(0, 200)}`);
      }
      before = after;
    }
    console.log(`fuzz seed ${SEED}: ${JSON.stringify(statuses)} in ${Date.now() - started} ms`);
    if (failures.length) console.error(`fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED}):\n${failures.join('\n')}`);
    expect(failures, `seed ${SEED}`).toEqual([]);
    // The mix reached both sides of validation.
    expect(statuses[400], `seed ${SEED}: ${JSON.stringify(statuses)}`).toBeGreaterThan(REQUESTS / 4);
    expect(statuses[413], `seed ${SEED}`).toBeGreaterThan(0);
    expect(Object.keys(statuses).some((s) => s.startsWith('2')), `seed ${SEED}`).toBe(true);

    // The engine drains: every accepted run ends.
    await vi.waitFor(
      async () => {
        const open = await platform.store.listRuns({ phase: ['Queued', 'Running'] }, { limit: 1, cursor: null });
        expect(open.items, `seed ${SEED}: runs still open`).toEqual([]);
      },
      { timeout: 90_000, interval: 200 },
    );
    const health = await send({ method: 'GET', url: '/healthz' });
    expect(health.status).toBe(200);
  });
});
