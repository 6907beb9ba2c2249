/**
 * Issue 12 §5, as a user meets it: a real topas over HTTP, real Lua runs, the real
 * CLI. A test that alternates pass/fail over 6 runs is flagged flaky with the runs
 * as evidence; quarantining it (CLI, by key) makes the next failing run Passed with
 * one quarantined failure and `topas test schedule --wait` exit 0; releasing it makes
 * the next failure fail again. The Tests API's 400/403/404 answers name what was wrong.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../src/core/run.js';
import type { TestDetail, TestSummary } from '../src/core/test-summary.js';
import { mintToken } from '../src/server/testing/test-client.js';
import { startTestTopas, type TestTopas } from '../src/server/testing/test-topas.js';
import { runTopasCli } from '../src/cli/testing/cli-process.js';

const SCRIPT = `
test("pays", function() assert(env.FAIL ~= "1", "payment declined") end)
test("lists", function() assert(true, "list shown") end)
test("refunds", function() skip("not today") end)
`;

let topas: TestTopas;
let work: string;

beforeAll(async () => {
  [topas, work] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-flaky-'))]);
  await writeFile(join(work, 'checkout.lua'), SCRIPT);
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const cli = (args: string[]) => runTopasCli(args, { url: topas.url, cwd: work, dataDir: topas.config.dataDir });

async function run(fail: boolean, labels: Record<string, string> = {}): Promise<Run> {
  const res = await topas.post('/api/runs', { name: 'checkout', fileName: 'checkout.lua', script: SCRIPT, env: { FAIL: fail ? '1' : '0' }, labels });
  expect(res.status).toBe(201);
  return topas.waitForEnd(((await res.json()) as Run).id);
}

async function json<T>(res: Response, status = 200): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}

const byKey = async (key: string) =>
  (await json<{ items: TestSummary[] }>(await topas.get(`/api/tests?text=${encodeURIComponent(key)}`))).items.find((t) => t.key === key)!;

describe('flaky tests and quarantine, end to end', () => {
  it('records the passing, failing and skipped tests of a run', async () => {
    const failed = await run(true);
    expect(failed).toMatchObject({ phase: 'Failed', category: 'Regression' });
    const { items } = await json<{ items: TestSummary[] }>(await topas.get('/api/tests'));
    expect(Object.fromEntries(items.map((t) => [t.key, t.lastOutcome]))).toEqual({
      'checkout.lua::pays': 'Failed',
      'checkout.lua::lists': 'Passed',
      'checkout.lua::refunds': 'Skipped',
    });
    const pays = items.find((t) => t.name === 'pays')!;
    expect(pays.lastFailure).toMatchObject({ runId: failed.id, category: 'Regression' });
    expect(pays.lastFailure!.message).toContain('payment declined');
  });

  it('flags a test alternating pass/fail over 6 runs as flaky, with the runs that flipped; `topas tests --flaky` lists it', async () => {
    const runs: Run[] = [];
    for (let i = 0; i < 6; i++) runs.push(await run(i % 2 === 1));
    const pays = await byKey('checkout.lua::pays');
    expect(pays).toMatchObject({ flaky: true, quarantine: null });
    expect((await byKey('checkout.lua::lists')).flaky).toBe(false);

    const detail = await json<TestDetail>(await topas.get(`/api/tests/${pays.id}`));
    expect(detail.window).toBe(30);
    // The first test's failing run, then P F P F P F: every one of the last six flipped.
    expect(detail.flakyEvidence.runIds).toEqual(runs.map((r) => r.id).reverse());

    const listed = await cli(['tests', '--flaky']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('checkout.lua::pays');
    expect(listed.stdout).toContain('flaky');
    expect(listed.stdout).not.toContain('checkout.lua::lists');
  }, 60_000);

  it('flags a test that passed and failed on the same revision label', async () => {
    const script = `test("charges", function() assert(env.FAIL ~= "1", "card declined") end)`;
    const ids: string[] = [];
    for (const fail of ['0', '1']) {
      const res = await topas.post('/api/runs', { name: 'billing', fileName: 'billing.lua', script, env: { FAIL: fail }, labels: { revision: 'abc123' } });
      ids.push((await topas.waitForEnd(((await res.json()) as Run).id)).id);
    }
    const charges = await byKey('billing.lua::charges');
    expect(charges.flaky).toBe(true);
    const detail = await json<TestDetail>(await topas.get(`/api/tests/${charges.id}`));
    expect(detail.flakyEvidence.revision).toEqual({ revision: 'abc123', passedRunId: ids[0], failedRunId: ids[1] });
  }, 30_000);

  it('quarantined (CLI, by key), its failure leaves the run Passed and `test schedule --wait` exits 0; released, the next failure fails', async () => {
    const q = await cli(['test', 'quarantine', 'checkout.lua::pays', '--reason', 'payment sandbox flaps']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toContain('quarantined');
    expect((await byKey('checkout.lua::pays')).quarantine).toMatchObject({ reason: 'payment sandbox flaps', by: 'admin' });

    const scheduled = await cli(['test', 'schedule', '--script', 'checkout.lua', '--env', 'FAIL=1', '--wait', '--json']);
    expect(scheduled.code, scheduled.stderr + scheduled.stdout).toBe(0);
    const passed = JSON.parse(scheduled.stdout.slice(scheduled.stdout.indexOf('{'))) as Run;
    expect(passed).toMatchObject({ phase: 'Passed', reason: null, category: null });
    expect(passed.summary.quarantinedFailures).toBe(1);
    expect(passed.message).toMatch(/^1 quarantined failure: .*payment declined/);

    const history = await json<{ items: { runId: string; outcome: string; quarantined: boolean; runPhase: string }[] }>(
      await topas.get(`/api/tests/${(await byKey('checkout.lua::pays')).id}/history?limit=1`),
    );
    expect(history.items).toEqual([expect.objectContaining({ runId: passed.id, outcome: 'Failed', quarantined: true, runPhase: 'Passed' })]);

    const quarantinedList = await cli(['tests', '--quarantined', '--json']);
    expect((JSON.parse(quarantinedList.stdout) as TestSummary[]).map((t) => t.key)).toEqual(['checkout.lua::pays']);

    const released = await cli(['test', 'unquarantine', 'checkout.lua::pays']);
    expect(released.code, released.stderr).toBe(0);
    const again = await cli(['test', 'schedule', '--script', 'checkout.lua', '--env', 'FAIL=1', '--wait']);
    expect(again.code).toBe(1);
  }, 60_000);

  it('pages through a test history newest first', async () => {
    const pays = await byKey('checkout.lua::pays');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { runId: string }[]; nextCursor: string | null } = await json(
        await topas.get(`/api/tests/${pays.id}/history?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.runId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(pays.runs);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen[0]).toBe(pays.lastRunId);
  });

  it('answers 404 naming an unknown id, 400 naming the bad field, 403 to a viewer who quarantines', async () => {
    const missing = await json<{ error: { message: string } }>(await topas.get('/api/tests/0123456789abcdef'), 404);
    expect(missing.error.message).toContain('0123456789abcdef');
    expect((await json<{ error: { message: string } }>(await topas.get('/api/tests/0123456789abcdef/history'), 404)).error.message).toContain('0123456789abcdef');
    expect((await json<{ error: { message: string } }>(await topas.get('/api/tests/not-an-id'), 400)).error.message).toMatch(/^id: /);
    expect((await json<{ error: { message: string } }>(await topas.get('/api/tests?outcome=Green'), 400)).error.message).toMatch(/^outcome: /);
    expect((await json<{ error: { message: string } }>(await topas.get('/api/tests?flaky=maybe'), 400)).error.message).toMatch(/^flaky: /);
    expect((await json<{ error: { message: string } }>(await topas.get('/api/tests?cursor=nope'), 400)).error.message).toMatch(/^cursor: /);

    const pays = await byKey('checkout.lua::pays');
    const put = (body: unknown, token = topas.token) =>
      fetch(`${topas.url}/api/tests/${pays.id}/quarantine`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await json<{ error: { message: string } }>(await put({ reason: '' }), 400)).error.message).toMatch(/^reason: /);
    expect((await json<{ error: { message: string } }>(await put({ reason: 'x'.repeat(501) }), 400)).error.message).toMatch(/^reason: /);

    const viewer = await mintToken(topas.store, 'viewer');
    expect((await put({ reason: 'nope' }, viewer)).status).toBe(403);
    const released = await fetch(`${topas.url}/api/tests/${pays.id}/quarantine`, { method: 'DELETE', headers: { authorization: `Bearer ${viewer}` } });
    expect(released.status).toBe(403);
    expect((await topas.get('/api/tests', { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(200);
    expect((await byKey('checkout.lua::pays')).quarantine).toBeNull();
  });
});
