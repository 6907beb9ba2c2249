/**
 * Importing test reports end to end, over real HTTP on an in-process topas: each
 * producer of the fixtures corpus, several files in one multipart request, Gauge's
 * console output, bad input (a 4xx naming the file or field, nothing stored), and
 * the round trip — a Lua run exported as JUnit and imported back has the same test
 * cases and outcomes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../src/core/run.js';
import type { AssertionRecord, StepRecord } from '../src/core/run-events.js';
import { testCasesOfRun } from '../src/core/test-case.js';
import { startTestTopas, type TestTopas } from '../src/server/testing/test-topas.js';

const FIXTURES = join(import.meta.dirname, 'fixtures/junit/import');

let topas: TestTopas;

beforeAll(async () => {
  topas = await startTestTopas();
}, 60_000);
afterAll(async () => {
  await topas?.close();
});

interface ImportAnswer {
  run: Run;
  counts: { tests: number; passed: number; failures: number; errors: number; skipped: number; flaky: number };
  files: string[];
}

async function upload(query: string, body: BodyInit, contentType?: string): Promise<Response> {
  return topas.get(`/api/reports${query}`, { method: 'POST', body, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
}

async function importFixture(file: string, query = ''): Promise<ImportAnswer> {
  const text = await readFile(join(FIXTURES, file), 'utf8');
  const res = await upload(`?file=${encodeURIComponent(file)}${query}`, text, file.endsWith('.txt') ? 'text/plain' : 'application/xml');
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('location')).toMatch(/^\/api\/runs\//);
  return (await res.json()) as ImportAnswer;
}

async function casesOf(runId: string) {
  const detail = (await (await topas.get(`/api/runs/${runId}`)).json()) as Run & { steps: StepRecord[]; assertions: AssertionRecord[] };
  return testCasesOfRun({ run: detail, steps: detail.steps, assertions: detail.assertions });
}

async function importedRunIds(): Promise<string[]> {
  const page = (await (await topas.get('/api/runs?origin=import&limit=1000')).json()) as { items: Run[] };
  return page.items.map((r) => r.id);
}

describe('POST /api/reports', () => {
  it.each([
    ['surefire-rerun.xml', { tests: 5, passed: 2, failures: 1, errors: 1, skipped: 1, flaky: 1 }, 'com.example.CartTest'],
    ['pytest-xunit1.xml', { tests: 5, passed: 1, failures: 1, errors: 1, skipped: 2, flaky: 0 }, 'pytest'],
    ['pytest-xunit2.xml', { tests: 4, passed: 2, failures: 1, errors: 0, skipped: 1, flaky: 0 }, 'pytest tests'],
    ['jest-junit.xml', { tests: 5, passed: 3, failures: 1, errors: 0, skipped: 1, flaky: 0 }, 'jest tests'],
    ['gotestsum.xml', { tests: 6, passed: 3, failures: 2, errors: 0, skipped: 1, flaky: 0 }, 'gotestsum'],
    ['gradle.xml', { tests: 3, passed: 1, failures: 1, errors: 0, skipped: 1, flaky: 0 }, 'com.example.OrderServiceTest'],
    ['nested-suites.xml', { tests: 5, passed: 4, failures: 0, errors: 1, skipped: 0, flaky: 0 }, 'all'],
  ])('imports %s with the right counts as a finished run of origin import', async (file, counts, name) => {
    const { run, counts: got, files } = await importFixture(file);
    expect(got).toEqual(counts);
    expect(files).toEqual([file]);
    expect(run).toMatchObject({ origin: 'import', name, phase: counts.failures + counts.errors > 0 ? 'Failed' : 'Passed', executor: null });
    const cases = await casesOf(run.id);
    expect(cases).toHaveLength(counts.tests);
    expect(cases.filter((c) => c.outcome === 'Failed')).toHaveLength(counts.failures);
    expect(cases.filter((c) => c.outcome === 'Error')).toHaveLength(counts.errors);
    expect(cases.filter((c) => c.outcome === 'Skipped')).toHaveLength(counts.skipped);
    expect(cases.filter((c) => c.flaky)).toHaveLength(counts.flaky);
    // its output is there, as log lines of its tests
    if (file === 'surefire-rerun.xml') {
      const logs = (await (await topas.get(`/api/runs/${run.id}/logs`)).json()) as { items?: { message: string }[] } | { message: string }[];
      const lines = Array.isArray(logs) ? logs : (logs.items ?? []);
      expect(lines.map((l) => l.message)).toContain('computing totals & taxes');
    }
  });

  it('takes several files as multipart/form-data into one run, with name, labels and a definition', async () => {
    const def = await topas.post('/api/definitions', { name: 'shop-suite', script: 'print(1)' });
    expect(def.status).toBe(201);
    const form = new FormData();
    for (const file of ['jest-junit.xml', 'gradle.xml']) form.append('file', new Blob([await readFile(join(FIXTURES, file))], { type: 'application/xml' }), file);
    const res = await upload('?name=nightly&label=ci.build=42&label=team=shop&definition=shop-suite', form);
    expect(res.status, await res.clone().text()).toBe(201);
    const { run, counts, files } = (await res.json()) as ImportAnswer;
    expect(files).toEqual(['jest-junit.xml', 'gradle.xml']);
    expect(counts.tests).toBe(8);
    expect(run).toMatchObject({ name: 'nightly', labels: { 'ci.build': '42', team: 'shop' }, phase: 'Failed', reason: 'AssertionFailed' });
    const byDefinition = (await (await topas.get(`/api/runs?definition=${(await def.json()).id}`)).json()) as { items: Run[] };
    expect(byDefinition.items.map((r) => r.id)).toEqual([run.id]);
    // testcases keep their own classnames under a definition
    expect((await casesOf(run.id)).map((c) => c.classname)).toContain('com.example.OrderServiceTest');
  });

  it("imports Gauge's console output (text/plain)", async () => {
    const { run, counts } = await importFixture('gauge-console.txt');
    expect(counts).toMatchObject({ tests: 4, passed: 3, failures: 1 });
    expect(run).toMatchObject({ phase: 'Failed', durationMs: 1500 });
    const cases = await casesOf(run.id);
    expect(cases[1]).toMatchObject({ key: 'Cart::Compute the total', outcome: 'Failed', message: 'expected 30 but was 31' });
  });

  it('refuses a file that is not JUnit with 400 naming the file and its first problem, and stores nothing', async () => {
    const before = await importedRunIds();
    const text = await readFile(join(FIXTURES, 'not-junit.xml'), 'utf8');
    const res = await upload('?file=pom.xml', text, 'application/xml');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('InvalidReport');
    expect(body.error.message).toMatch(/^pom\.xml:2:\d+: the root element is <project>/);
    // a bad second file of a multipart request: the first one is not stored either
    const form = new FormData();
    form.append('file', new Blob([await readFile(join(FIXTURES, 'gradle.xml'))]), 'good.xml');
    form.append('file', new Blob([await readFile(join(FIXTURES, 'malformed.xml'))]), 'bad.xml');
    const multi = await upload('', form);
    expect(multi.status).toBe(400);
    expect(((await multi.json()) as { error: { message: string } }).error.message).toMatch(/^bad\.xml:3:\d+: /);
    expect(await importedRunIds()).toEqual(before);
  });

  it('answers 4xx naming what is wrong: labels, definition, format, media type, empty reports', async () => {
    const xml = await readFile(join(FIXTURES, 'gradle.xml'), 'utf8');
    const bad = async (query: string, body: BodyInit, type: string | undefined, status: number, message: RegExp) => {
      const res = await upload(query, body, type);
      expect(res.status, await res.clone().text()).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    };
    await bad('?label=not a label', xml, 'application/xml', 400, /label/);
    await bad('?definition=nope', xml, 'application/xml', 400, /^definition: test definition "nope" does not exist/);
    await bad('?format=csv', xml, 'application/xml', 400, /format/);
    await bad('', JSON.stringify({ xml }), 'application/json', 415, /application\/xml/);
    await bad('?file=empty.xml', '<testsuites name="none"/>', 'application/xml', 400, /^empty\.xml: holds no testcase/);
    await bad('?file=nothing.xml', '', 'application/xml', 400, /^nothing\.xml:1:0: document must contain a root element/);
  });

  it('needs the runner role', async () => {
    const token = await topas.post('/api/tokens', { name: 'reader', role: 'viewer' });
    const { token: secret } = (await token.json()) as { token: string };
    const res = await topas.get('/api/reports', { method: 'POST', body: '<testsuite/>', headers: { 'content-type': 'application/xml', authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(403);
  });

  it('keeps origin import for imports: a run cannot claim it, an imported run cannot be rerun', async () => {
    const res = await topas.post('/api/runs', { script: 'print(1)', origin: 'import' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^origin: /);
    // nor through the engine, which every entry point (schedules, CRDs) goes through
    await expect(topas.engine.submit({ script: 'print(1)', origin: 'import' })).rejects.toThrow(/^origin: import is the origin of imported reports/);
    const { run } = await importFixture('gradle.xml');
    const rerun = await topas.post(`/api/runs/${run.id}/rerun`, {});
    expect(rerun.status).toBe(409);
  });
});

describe('JUnit round trip', () => {
  it('a Lua run exported as JUnit and imported back has the same test cases and outcomes', async () => {
    const script = [
      'test("adds", function() expect(1 + 1).to_be(2) end)',
      'test("status", function() expect(500).to_be(200) end)',
      'test("later", function() skip("flag off") end)',
      'test("boom", function() error("kaput") end)',
      'test("adds", function() end)',
    ].join('\n');
    const created = await topas.post('/api/runs', { name: 'roundtrip', script, fileName: 'roundtrip.lua', timeoutSeconds: 30 });
    expect(created.status).toBe(201);
    const original = await topas.waitForEnd(((await created.json()) as Run).id, 30_000);
    expect(original.phase).toBe('Failed');
    const xml = await (await topas.get(`/api/runs/${original.id}/junit.xml`)).text();
    const { run } = (await (await upload('?file=roundtrip.xml', xml, 'application/xml')).json()) as ImportAnswer;
    const shape = (cases: Awaited<ReturnType<typeof casesOf>>) => cases.map((c) => ({ key: c.key, outcome: c.outcome, message: c.message }));
    const before = await casesOf(original.id);
    const after = await casesOf(run.id);
    expect(shape(after)).toEqual(shape(before));
    expect(before.map((c) => c.outcome)).toEqual(['Passed', 'Failed', 'Skipped', 'Error', 'Passed']);
    expect(run).toMatchObject({ name: 'topas', phase: 'Failed', reason: 'AssertionFailed' });
  });
});
