/**
 * One rule set for every input, and no input that breaks the server (issue 9, items
 * 3–5): labels follow Kubernetes' limits wherever they enter (runs, definitions,
 * re-runs, query filters, Apps); an App manifest's unknown fields are refused; NUL
 * characters, lone UTF-16 surrogates, 10,000-deep JSON, oversized bodies, bad cursors
 * and impossible ids answer 4xx naming the field — never 500 — and store nothing.
 * Real parts: the in-memory HTTP app on PGlite, the engine, the App controller.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAppFile } from '../../src/apps/app-file.js';
import { AppController } from '../../src/apps/app-controller.js';
import { LocalAppRuntime } from '../../src/apps/local/local-app-runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { ValidationError } from '../../src/core/errors.js';
import { createApp } from '../../src/server/app.js';
import { mintToken } from '../../src/server/testing/test-client.js';
import { openTestPlatform, type TestPlatform } from '../../src/server/testing/test-platform.js';

let platform: TestPlatform;
let apps: AppController;
let app: ReturnType<typeof createApp>;
let dataDir: string;
/** An admin token's header: every request here is about validation, past authentication. */
let authorization = '';

beforeAll(async () => {
  platform = await openTestPlatform();
  dataDir = await mkdtemp(join(tmpdir(), 'topas-validation-'));
  apps = new AppController({ store: platform.store, runtime: new LocalAppRuntime({ stateDir: join(dataDir, 'apps'), databaseEngine: 'pglite' }), defaultBaseDir: dataDir });
  app = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), apps });
  authorization = `Bearer ${await mintToken(platform.store, 'admin')}`;
});
afterEach(async () => {
  await platform?.reset();
  await platform?.sql.exec('DELETE FROM apps');
});
afterAll(async () => {
  await apps?.close();
  await platform?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Every request of this file, with its headers from one place. */
async function send(method: string, path: string, body?: string | ReadableStream<Uint8Array>): Promise<Response> {
  const headers: Record<string, string> = body === undefined ? { authorization } : { authorization, 'content-type': 'application/json' };
  const init: RequestInit & { duplex?: 'half' } = { method, headers, body };
  if (body instanceof ReadableStream) init.duplex = 'half';
  return app.request(path, init);
}
const json = (method: string, path: string, value: unknown) => send(method, path, JSON.stringify(value));

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

/** Rows of what a request may create; a rejected request leaves them as they were. */
async function stored(): Promise<{ runs: number; definitions: number; apps: number }> {
  const { rows } = await platform.sql.query<{ runs: number; definitions: number; apps: number }>(
    'SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM test_definitions) AS definitions, (SELECT count(*)::int FROM apps) AS apps',
  );
  return rows[0]!;
}

async function expectRejected(res: Response, status: number, message: RegExp, before: Awaited<ReturnType<typeof stored>>): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect((JSON.parse(text) as { error: { message: string } }).error.message).toMatch(message);
  expect(await stored()).toEqual(before);
}

const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

describe('labels: Kubernetes limits wherever labels enter', () => {
  const bad: [string, Record<string, string>, RegExp][] = [
    ['a 64-character name', { ['n'.repeat(64)]: 'v' }, /^labels\.n{64}: key is not a valid label key: the name must be 1 to 63/],
    ['a 254-character prefix', { [`${'p'.repeat(254)}/name`]: 'v' }, /: key is not a valid label key: the prefix before "\/" must be a DNS subdomain of at most 253/],
    ['an upper-case prefix', { 'Example.com/name': 'v' }, /key is not a valid label key: the prefix/],
    ['a 64-character value', { team: 'v'.repeat(64) }, /^labels\.team: is not a valid label value: at most 63/],
    ['a value with a space', { team: 'no spaces' }, /^labels\.team: is not a valid label value/],
    ['65 labels', labels(65), /^labels: must hold at most 64 labels, got 65$/],
  ];

  it.each(bad)('refuses %s on runs, definitions and Apps (400 naming the label, nothing stored)', async (_what, value, message) => {
    const before = await stored();
    await expectRejected(await json('POST', '/api/runs', { script: 'print(1)', labels: value }), 400, message, before);
    await expectRejected(await json('POST', '/api/definitions', { name: 'labelled', script: 'print(1)', labels: value }), 400, message, before);
    await expectRejected(await json('PUT', '/api/apps/labelled', { metadata: { labels: value }, spec: {} }), 400, new RegExp(message.source.replace('^labels', '^metadata\\.labels')), before);
    await expect(platform.engine.submit({ origin: 'api', script: 'print(1)', labels: value })).rejects.toThrow(ValidationError);
    expect(await stored()).toEqual(before);
  });

  it('accepts the limits themselves: 63-character names and values, a 253-character prefix, empty values, 64 labels', async () => {
    const edge = { ['n'.repeat(63)]: 'v'.repeat(63), [`${'p'.repeat(60)}.${'q'.repeat(60)}.${'r'.repeat(60)}.${'s'.repeat(70)}/n`]: '', ...labels(62) };
    expect(Object.keys(edge)).toHaveLength(64);
    expect((await json('POST', '/api/runs', { script: 'print(1)', labels: edge })).status).toBe(201);
    expect((await json('POST', '/api/definitions', { name: 'edge', script: 'print(1)', labels: edge })).status).toBe(201);
    expect((await json('PUT', '/api/apps/edge', { metadata: { labels: edge }, spec: {} })).status).toBe(201);
  });

  it("refuses a run whose definition's labels and its own together exceed 64", async () => {
    expect((await json('POST', '/api/definitions', { name: 'many', script: 'print(1)', labels: labels(40) })).status).toBe(201);
    const before = await stored();
    const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`extra${i}`, 'v']));
    await expectRejected(await json('POST', '/api/definitions/many/runs', { labels: extra }), 400, /^labels: must hold at most 64 labels, got 70$/, before);
  });

  it('refuses label filters that no stored label could match, naming the parameter', async () => {
    for (const [path, name] of [
      [`/api/runs?label=${'n'.repeat(64)}=v`, 'label'],
      [`/api/runs?label=team=${'v'.repeat(64)}`, 'label'],
      [`/api/insights/trends?labels=${'n'.repeat(64)}=v`, 'labels'],
      [`/api/insights/top?labels=team=a%20b`, 'labels'],
    ] as const) {
      const res = await send('GET', path);
      expect(res.status, path).toBe(400);
      expect((await errorOf(res)).message, path).toMatch(new RegExp(`^${name}: ".*" is not a valid label`));
    }
  });
});

describe('one rule set: what the API refuses, a definition refuses too', () => {
  it('a label refused on POST /api/runs is refused on a definition (it was stored and copied onto its runs)', async () => {
    const before = await stored();
    const key = `team.${'x'.repeat(70)}`;
    const run = await json('POST', '/api/runs', { script: 'print(1)', labels: { [key]: 'a' } });
    expect(run.status).toBe(400);
    await expectRejected(await json('POST', '/api/definitions', { name: 'd', script: 'print(1)', labels: { [key]: 'a' } }), 400, /^labels\.team\.x+: key is not a valid label key/, before);
  });

  it('an App manifest with an unknown top-level or metadata field is refused, naming it (API and App files with file:line)', async () => {
    const before = await stored();
    await expectRejected(await json('PUT', '/api/apps/demo', { spec: {}, sepc: {} }), 400, /^sepc: unknown field \(check the spelling\)$/, before);
    await expectRejected(await json('PUT', '/api/apps/demo', { metadata: { name: 'demo', lables: {} }, spec: {} }), 400, /^metadata\.lables: unknown field/, before);
    const text = ['apiVersion: topas.dev/v1alpha1', 'kind: App', 'metadata:', '  name: demo', '  lables: { a: b }', 'spec:', '  services: []', 'replicas: 2', ''].join('\n');
    expect(() => parseAppFile(text, 'app.yaml')).toThrow(['app.yaml:5: metadata.lables: unknown field (check the spelling)', 'app.yaml:8: replicas: unknown field (check the spelling)'].join('\n'));
  });

  it('the engine applies the same rules to every entry point (a traversal as App name, NUL in a file)', async () => {
    const error = await platform.engine.submit({ origin: 'crd', script: 'print(1)', appName: '../x', files: { 'a.lua': 'x\u0000' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['files.a.lua', 'appName']);
  });
});

describe('inputs that caused a 500: 400 naming the field, nothing stored', () => {
  const NUL = '\u0000';
  const LONE = '\ud800';
  const bodies: [string, string, unknown, RegExp][] = [
    ['POST', '/api/runs', { script: `print(1)${NUL}` }, /^script: must not contain NUL characters/],
    ['POST', '/api/runs', { script: 'print(1)', name: `a${NUL}` }, /^name: must not contain NUL/],
    ['POST', '/api/runs', { script: 'print(1)', env: { A: NUL } }, /^env\.A: must not contain NUL/],
    ['POST', '/api/runs', { script: 'print(1)', files: { 'a.lua': NUL } }, /^files\.a\.lua: must not contain NUL/],
    ['POST', '/api/runs', { definitionId: NUL }, /^definitionId: must not contain NUL/],
    ['POST', '/api/runs', { script: LONE }, /^script: must be well-formed Unicode text/],
    ['POST', '/api/runs', { script: 'print(1)', name: LONE }, /^name: must be well-formed Unicode/],
    ['POST', '/api/runs', { script: 'print(1)', env: { A: `x${LONE}` } }, /^env\.A: must be well-formed Unicode/],
    ['POST', '/api/runs', { script: 'print(1)', files: { [`a${LONE}.lua`]: 'x' } }, /: key must be well-formed Unicode/],
    ['POST', '/api/runs', { script: 'print(1)', files: { 'a.lua': '\udc00' } }, /^files\.a\.lua: must be well-formed Unicode/],
    ['POST', '/api/definitions', { name: 'd', script: NUL }, /^script: must not contain NUL/],
    ['POST', '/api/definitions', { name: 'd', script: LONE }, /^script: must be well-formed Unicode/],
    ['POST', '/api/definitions', { name: 'd', script: 'x', description: NUL }, /^description: must not contain NUL/],
    ['PUT', '/api/apps/demo', { spec: { services: [{ name: 'web', version: NUL, port: 80 }] } }, /^spec\.services\[0\]\.version: must not contain NUL/],
    ['PUT', '/api/apps/demo', { metadata: { annotations: { note: LONE } }, spec: {} }, /^metadata\.annotations\.note: must be well-formed Unicode/],
    ['PUT', '/api/apps/demo', { spec: { databases: [{ name: 'db', credentials: { user: 'u', dbname: 'd', password: NUL } }] } }, /password: must not contain NUL/],
  ];
  it.each(bodies)('%s %s %j', async (method, path, body, message) => {
    const before = await stored();
    await expectRejected(await json(method, path, body), 400, message, before);
  });

  it('rerun and definition-run bodies too', async () => {
    const run = (await (await json('POST', '/api/runs', { script: 'print(1)' })).json()) as { id: string };
    expect((await json('POST', '/api/definitions', { name: 'd', script: 'print(1)' })).status).toBe(201);
    const before = await stored();
    await expectRejected(await json('POST', `/api/runs/${run.id}/rerun`, { env: { A: NUL } }), 400, /^env\.A: must not contain NUL/, before);
    await expectRejected(await json('POST', '/api/definitions/d/runs', { env: { A: LONE } }), 400, /^env\.A: must be well-formed Unicode/, before);
  });

  const urls: [string, string, RegExp][] = [
    ['GET', '/api/runs?q=%00', /^q: must not contain NUL/],
    ['GET', '/api/runs?app=%00', /^app: must not contain NUL/],
    ['GET', '/api/runs?definition=a%00', /^definition: must not contain NUL/],
    ['GET', '/api/runs?label=a=%00', /^label: /],
    ['GET', '/api/definitions?q=%00', /^q: must not contain NUL/],
    ['GET', '/api/insights/trends?appName=%00', /^appName: must not contain NUL/],
    ['GET', '/api/insights/trends?definitionId=%00', /^definitionId: must not contain NUL/],
    ['GET', '/api/insights/top?labels=a=%00', /^labels: /],
    ['GET', '/api/runs?since=0000-01-01T00:00:00Z', /^since: must be an ISO-8601 timestamp/],
    ['GET', '/api/definitions/%00', /^idOrName: must not contain NUL/],
    ['DELETE', '/api/definitions/a%00b', /^idOrName: must not contain NUL/],
    ['POST', '/api/definitions/%00/runs', /^idOrName: must not contain NUL/],
    ['GET', `/api/definitions/${'d'.repeat(5000)}`, /^idOrName: must be a definition id \(UUID\) or name/],
    ['GET', '/api/apps/%00', /^name: must not contain NUL/],
    ['DELETE', '/api/apps/%00', /^name: must not contain NUL/],
    ['DELETE', `/api/apps/${'a'.repeat(5000)}`, /^name: must be at most 63 characters$/],
    ['DELETE', '/api/apps/..%2F..%2Ftopas-validation-nowhere', /^name: must be a DNS label/],
    ['GET', '/api/runs/%00', /^id: must not contain NUL/],
  ];
  it.each(urls)('%s %s', async (method, path, message) => {
    const before = await stored();
    await expectRejected(await send(method, path), 400, message, before);
  });

  it('unknown and invalid cursors: 400 naming cursor', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of ['abc', '%00', b64('["0000-01-01T00:00:00.000Z","x"]'), b64('["March 7","x"]'), b64('["2025-01-01T00:00:00.000Z","\\u0000"]'), b64('[1,2]')]) {
      for (const list of ['/api/runs', '/api/definitions']) {
        const res = await send('GET', `${list}?cursor=${cursor}`);
        expect(res.status, `${list} ${cursor}`).toBe(400);
        expect((await errorOf(res)).message, `${list} ${cursor}`).toMatch(/^cursor: /);
      }
    }
  });

  it('JSON nested 10,000 levels deep: 400 naming body, before any schema walks it', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    for (const [method, path, body] of [
      ['POST', '/api/runs', `{"script":"print(1)","timeoutSeconds":${deep(10_000)}}`],
      ['POST', '/api/definitions', `{"name":"d","script":${deep(10_000)}}`],
      ['PUT', '/api/apps/demo', `{"spec":${deep(100_000)}}`],
    ] as const) {
      const before = await stored();
      await expectRejected(await send(method, path, body), 400, /^body: must not nest arrays and objects deeper than 32 levels$/, before);
    }
  });

  it('malformed JSON and a raw NUL byte in JSON text: 400 naming body', async () => {
    const before = await stored();
    await expectRejected(await send('POST', '/api/runs', '{"script":'), 400, /^body: is not valid JSON/, before);
    await expectRejected(await send('POST', '/api/runs', '{"script":"a\u0000b"}'), 400, /^body: is not valid JSON/, before);
  });

  it('an empty body sent as JSON is no body: a DELETE goes through, a POST that needs a body is a 400', async () => {
    const before = await stored();
    expect((await send('DELETE', '/api/definitions/no-such-definition', '')).status).toBe(404);
    const res = await send('POST', '/api/runs', '');
    expect(res.status).toBe(400);
    expect(await stored()).toEqual(before);
  });

  it('a body over 8 MiB: 413, refused while it is read (a 100 MiB stream is not read to its end)', async () => {
    const before = await stored();
    await expectRejected(await send('POST', '/api/runs', JSON.stringify({ script: 'x'.repeat(9 * 1024 * 1024) })), 413, /^body: must be at most 8388608 bytes/, before);
    let pulled = 0;
    const chunk = new TextEncoder().encode(`"${'x'.repeat(64 * 1024)}`);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.length;
        if (pulled > 100 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await send('PUT', '/api/apps/demo', stream);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('PayloadTooLarge');
    expect(pulled).toBeLessThan(10 * 1024 * 1024);
    expect(await stored()).toEqual(before);
  });
});
