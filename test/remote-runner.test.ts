/**
 * Runs that outlive the topas that started them: a real topas process whose runs
 * execute in detached `topas runner` processes (the test-only process executor, the
 * runner protocol over real HTTP), killed with SIGKILL mid-run and started again on
 * the same data folder and port. And the per-run token: its run's runner routes,
 * nothing else, and nothing after the run ends.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { api, startTopasProcess, until, type TopasProcess } from './topas-process.js';

const ENTRY = fileURLToPath(new URL('../src/server/testing/topas-with-process-executor.ts', import.meta.url));

const started: TopasProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** `topas up` with the process executor, as an executable (what `startTopasProcess` runs). */
async function processTopas(data: string, port = '0'): Promise<TopasProcess> {
  const bin = join(data, 'topas-with-process-executor.sh');
  if (!existsSync(bin)) {
    writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${ENTRY}" "$@"\n`);
    chmodSync(bin, 0o755);
  }
  const p = await startTopasProcess(['--data', data, '--port', port], {}, { bin, startTimeoutMs: 60_000 });
  started.push(p);
  return p;
}

const runToken = (data: string, runId: string) => readFileSync(join(data, 'runners', runId, 'token'), 'utf8').trim();

async function allLogs(url: string, id: string): Promise<{ seq: number; message: string }[]> {
  return (await api(`${url}/api/runs/${id}/logs?limit=1000`)).body.items;
}

describe('remote runners (process executor)', () => {
  it('finishes a run Passed with its whole log when topas is killed with SIGKILL mid-run and started again', async () => {
    const data = await mkdtemp(join(tmpdir(), 'topas-remote-'));
    dirs.push(data);
    const first = await processTopas(data);
    // Long enough (4 s of sleeping in slices) to span the kill and the restart.
    const body = {
      script: [
        'test("outlives topas", function()',
        '  for i = 1, 20 do log.info("before " .. i) end',
        '  step("first", function() assert(true, "one") end)',
        '  for i = 1, 40 do sleep(100); log.info("during " .. i) end',
        '  step("second", function() assert(1 + 1 == 2, "two") end)',
        '  for i = 1, 20 do log.info("after " .. i) end',
        'end)',
      ].join('\n'),
      fileName: 'outlives.lua',
    };
    const run = (await api(`${first.url}/api/runs`, { body })).body;
    expect(run.id).toBeTruthy();
    // Running in its runner process, with some of its log stored.
    await until('the first lines stored', async () => (await allLogs(first.url, run.id)).length >= 20, 30_000);
    const port = new URL(first.url).port;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await processTopas(data, port);
    const final = await until(
      'the run to end',
      async () => {
        const r = (await api(`${second.url}/api/runs/${run.id}`)).body;
        return r.phase !== 'Running' && r.phase !== 'Queued' ? r : undefined;
      },
      60_000,
    );
    // The restarted topas adopted the run and followed its still-running runner.
    expect(second.output()).toContain('re-attaching to a run started by a previous owner');
    expect(final).toMatchObject({ phase: 'Passed', reason: null, summary: { stepsPassed: 3, stepsFailed: 0, assertionsPassed: 2, assertionsFailed: 0 } });
    expect(final.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual(['outlives topas:passed', 'first:passed', 'second:passed']);
    const logs = await allLogs(second.url, run.id);
    const expected = [
      ...Array.from({ length: 20 }, (_, i) => `before ${i + 1}`),
      ...Array.from({ length: 40 }, (_, i) => `during ${i + 1}`),
      ...Array.from({ length: 20 }, (_, i) => `after ${i + 1}`),
    ];
    expect(logs.map((l) => l.message)).toEqual(expected);
    expect(logs.map((l) => l.seq)).toEqual(expected.map((_, i) => i + 1));
    // The runner printed a readable log (what `kubectl logs` shows) and wrote its result.
    const output = readFileSync(join(data, 'runners', run.id, 'output'), 'utf8');
    expect(output).toContain('after 20');
    expect(output).toMatch(/✓ second/);
    expect(JSON.parse(readFileSync(join(data, 'runners', run.id, 'termination-log'), 'utf8'))).toMatchObject({ phase: 'Passed' });

    // --- per-run tokens, on the same topas
    const slow = (await api(`${second.url}/api/runs`, { body: { script: 'log.info("waiting")\nsleep(30000)', fileName: 'slow.lua' } })).body;
    await until('the slow run to log', async () => (await allLogs(second.url, slow.id)).length >= 1, 30_000);
    const token = runToken(data, slow.id);
    expect(token).toMatch(/^topas_run_/);
    const base = `${second.url}/api/runs/${slow.id}/runner`;
    // Its own runner routes: yes.
    expect((await api(`${base}/execution`, { token })).status).toBe(200);
    // Nothing else: not the run list, not its own run, not another run's runner routes, no token admin.
    expect((await api(`${second.url}/api/runs`, { token })).status).toBe(403);
    expect((await api(`${second.url}/api/runs/${slow.id}`, { token })).status).toBe(403);
    expect((await api(`${second.url}/api/tokens`, { token })).status).toBe(403);
    const other = await api(`${second.url}/api/runs/${run.id}/runner/events`, { token, body: { events: [] } });
    expect(other.status).toBe(403);
    // Bad input names the field.
    const bad = await api(`${base}/events`, { token, body: { events: [{ type: 'log', seq: 0, ts: Date.now(), level: 'info', message: 'x', stepSeq: null }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('events[0].seq');
    // A replayed batch is stored once.
    const batch = { events: [1000, 1001].map((seq) => ({ type: 'log', seq, ts: Date.now(), level: 'info', message: `replayed ${seq}`, stepSeq: null })) };
    for (let i = 0; i < 3; i++) expect((await api(`${base}/events`, { token, body: batch })).status).toBe(200);
    const replayed = (await allLogs(second.url, slow.id)).filter((l) => l.message.startsWith('replayed'));
    expect(replayed.map((l) => l.seq)).toEqual([1000, 1001]);
    // After the run ends, the token is refused.
    expect((await api(`${second.url}/api/runs/${slow.id}/cancel`, { method: 'POST' })).body.phase).toBe('Cancelled');
    expect((await api(`${base}/heartbeat`, { token, body: {} })).status).toBe(401);
    expect((await api(`${second.url}/api/runs`, { token: `${token}x` })).status).toBe(401);

    second.child.kill('SIGTERM');
    await second.exited;
  }, 150_000);
});
