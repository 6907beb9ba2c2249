/**
 * JUnit XML export end to end: real runs on an in-process topas (passing, failed
 * assertion, script error, timeout, no tests, skipped), their report read over the
 * API, and validated against Jenkins' junit-10.xsd with xmllint (skipped, saying so,
 * when xmllint is not installed: Debian's libxml2-utils).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../src/core/run.js';
import { startTestTopas, type TestTopas } from '../src/server/testing/test-topas.js';

const XSD = join(import.meta.dirname, 'fixtures/junit/junit-10.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!hasXmllint) console.warn('xmllint not found (apt-get install libxml2-utils): the junit-10.xsd validation is skipped');

let topas: TestTopas;
let work: string;
const runs: Record<string, Run> = {};
const BUILD = `b${process.pid}`;

const SCRIPTS: Record<string, { script: string; timeoutSeconds?: number }> = {
  passing: { script: 'test("adds", function()\n  log.info("two & <two>")\n  expect(1 + 1).to_be(2)\nend)\ntest("adds", function() end)' },
  failing: { script: 'test("status", function()\n  expect(500).to_be(200)\nend)\ntest("skipped one", function() skip("flag off") end)' },
  erroring: { script: 'test("boom", function()\n  error("kaput")\nend)' },
  slow: { script: 'test("waits", function()\n  while true do end\nend)', timeoutSeconds: 1 },
  plain: { script: 'print("no tests here")' },
  after: { script: 'test("fine", function() end)\nerror("broke after the tests")' },
};

async function xml(path: string): Promise<{ status: number; type: string | null; headers: Headers; body: string }> {
  const res = await topas.get(path);
  return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: await res.text() };
}

function validate(doc: string, file: string): void {
  execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
  expect(doc.startsWith('<?xml')).toBe(true);
}

beforeAll(async () => {
  [topas, work] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-junit-'))]);
  const submit = async (name: string) => {
    const { script, timeoutSeconds } = SCRIPTS[name]!;
    const res = await topas.post('/api/runs', { name, script, fileName: `${name}.lua`, timeoutSeconds: timeoutSeconds ?? 30, labels: { 'ci.build': BUILD } });
    expect(res.status, await res.clone().text()).toBe(201);
    runs[name] = (await res.json()) as Run;
  };
  // The busy-looping run last, alone: its Lua worker is stopped at the timeout, with whatever else it ran.
  const others = Object.keys(SCRIPTS).filter((n) => n !== 'slow');
  for (const name of others) await submit(name);
  for (const name of others) runs[name] = await topas.waitForEnd(runs[name]!.id, 30_000);
  await submit('slow');
  runs.slow = await topas.waitForEnd(runs.slow!.id, 30_000);
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('JUnit XML over the API', () => {
  it('ran the runs the report covers', () => {
    expect(Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, r.phase]))).toEqual({
      passing: 'Passed',
      failing: 'Failed',
      erroring: 'Failed', // an error inside a test fails that test (ScriptError), the next tests still run
      slow: 'TimedOut',
      plain: 'Passed',
      after: 'Failed',
    });
  });

  it('GET /api/runs/{id}/junit.xml maps a failed assertion to a failure, a skip to skipped', async () => {
    const { status, type, body } = await xml(`/api/runs/${runs.failing!.id}/junit.xml`);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/xml/);
    expect(body).toMatch(/<testsuite name="failing" [^>]*tests="2" failures="1" errors="0" skipped="1"/);
    expect(body).toMatch(/<testcase classname="failing.lua" name="status" time="[\d.]+">\n\s*<failure message="[^"]*" type="AssertionFailed">[^<]*at failing.lua:2\nexpected: 200\nactual: 500\ncategory: Regression<\/failure>/);
    expect(body).toMatch(/name="skipped one" time="[\d.]+">\n\s*<skipped message="flag off"\/>/);
    expect(body).toContain(`<property name="label.ci.build" value="${BUILD}"/>`);
  });

  it('maps a script error and a timeout to errors with the reason, and keeps log lines and names unique', async () => {
    const errored = (await xml(`/api/runs/${runs.erroring!.id}/junit.xml`)).body;
    expect(errored).toMatch(/<error message="[^"]*kaput" type="ScriptError">/);
    // the failure category (no rule matches "kaput": the default) closes the failure body
    expect(errored).toMatch(/category: Regression<\/error>/);
    const slow = (await xml(`/api/runs/${runs.slow!.id}/junit.xml`)).body;
    expect(slow).toMatch(/<error message="[^"]*" type="Timeout">/);
    const passing = (await xml(`/api/runs/${runs.passing!.id}/junit.xml`)).body;
    expect(passing).toContain('name="adds"');
    expect(passing).toContain('name="adds (2)"');
    expect(passing).toMatch(/<system-out>\S+ INFO two &amp; &lt;two&gt;<\/system-out>/);
    const plain = (await xml(`/api/runs/${runs.plain!.id}/junit.xml`)).body;
    expect(plain).toMatch(/<testsuite name="plain" [^>]*tests="1" failures="0" errors="0" skipped="0"/);
    expect(plain).toContain('<testcase classname="plain.lua" name="plain"');
    // failed outside every test: not green, one more testcase carries the run's error
    const after = (await xml(`/api/runs/${runs.after!.id}/junit.xml`)).body;
    expect(after).toMatch(/<testsuite name="after" [^>]*tests="2" failures="0" errors="1"/);
    expect(after).toMatch(/<testcase classname="after.lua" name="after" time="[\d.]+">\n\s*<error message="[^"]*broke after the tests" type="ScriptError">/);
  });

  it('answers 404 for an unknown run', async () => {
    expect((await xml('/api/runs/0190a1b2-0000-7000-8000-000000000000/junit.xml')).status).toBe(404);
  });

  it('GET /api/junit.xml takes the run-list filters: one testsuites document for the selected runs', async () => {
    const all = await xml(`/api/junit.xml?label=ci.build=${BUILD}`);
    expect(all.status).toBe(200);
    expect(all.body.match(/<testsuite /g)).toHaveLength(6);
    expect(all.headers.get('x-topas-runs-truncated')).toBe('false');
    expect(all.body.match(/<testsuites /g)).toHaveLength(1);
    const failed = await xml(`/api/junit.xml?label=ci.build=${BUILD}&phase=Failed`);
    expect(failed.body.match(/<testsuite name="(\w+)"/g)?.sort()).toEqual(['<testsuite name="after"', '<testsuite name="erroring"', '<testsuite name="failing"']);
    expect((await xml('/api/junit.xml?phase=Nope')).status).toBe(400);
  });

  it('GET /api/junit.xml holds the newest 500 runs of a larger selection and says it left some out', async () => {
    const label = `cap-${process.pid}`;
    const made = await topas.store.createRuns(
      Array.from({ length: 501 }, (_, i) => ({ name: `cap-${i}`, origin: 'api' as const, source: { type: 'inline' as const, script: 'x = 1' }, timeoutSeconds: 30, labels: { 'ci.build': label } })),
    );
    const report = await xml(`/api/junit.xml?label=ci.build=${label}`);
    expect(report.status).toBe(200);
    expect(report.headers.get('x-topas-runs-truncated')).toBe('true');
    expect(report.body.match(/<testsuite /g)).toHaveLength(500);
    expect(report.body).toContain(`id="${made.at(-1)!.id}"`); // the newest is in
    expect(report.body).not.toContain(`id="${made[0]!.id}"`); // the oldest is the one left out
  }, 60_000);

  it.skipIf(!hasXmllint)('is valid against Jenkins junit-10.xsd (xmllint --schema)', async () => {
    const all = await xml(`/api/junit.xml?label=ci.build=${BUILD}`);
    const file = join(work, 'all.xml');
    await writeFile(file, all.body);
    validate(all.body, file);
    for (const [name, run] of Object.entries(runs)) {
      const one = await xml(`/api/runs/${run.id}/junit.xml`);
      const f = join(work, `${name}.xml`);
      await writeFile(f, one.body);
      validate(one.body, f);
    }
  });
});
