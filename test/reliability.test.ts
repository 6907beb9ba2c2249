import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, startTopasProcess, until, type TopasProcess } from './topas-process.js';

const started: TopasProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function allRuns(url: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: any[]; nextCursor: string | null } } = await api(`${url}/api/runs?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

describe('reliability of the embedded platform', () => {
  it('loses and duplicates nothing when the server is killed with 10 runs executing and 100 queued', async () => {
    const data = await mkdtemp(join(tmpdir(), 'topas-kill-'));
    dirs.push(data);
    const script = 'print("start " .. env.N)\nsleep(tonumber(env.MS))\nprint("end " .. env.N)';
    const first = await startTopasProcess(['--data', data, '--no-examples', '--concurrency', '10']);
    started.push(first);
    for (let i = 0; i < 10; i++) {
      const r = await api(`${first.url}/api/runs`, { body: { name: `long-${i}`, script, env: { N: String(i), MS: '60000' } } });
      expect(r.status).toBe(201);
    }
    await until('10 runs executing', async () => (await api(`${first.url}/api/stats`)).body.activeRunners === 10);
    for (let i = 10; i < 110; i++) {
      await api(`${first.url}/api/runs`, { body: { name: `short-${i}`, script, env: { N: String(i), MS: '20' } } });
    }
    // Every executing run has written its first line before the crash.
    await until('first log lines persisted', async () => {
      const running = (await allRuns(first.url)).filter((r) => r.phase === 'Running');
      const logs = await Promise.all(running.map((r) => api(`${first.url}/api/runs/${r.id}/logs`)));
      return logs.every((l) => l.body.items.length === 1) && running.length === 10;
    });
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startTopasProcess(['--data', data, '--no-examples', '--concurrency', '10']);
    started.push(second);
    const runs = await until(
      'every run terminal',
      async () => {
        const all = await allRuns(second.url);
        return all.every((r) => !['Queued', 'Running'].includes(r.phase)) && all;
      },
      60_000,
    );
    expect(runs).toHaveLength(110);
    expect(new Set(runs.map((r) => r.id)).size).toBe(110);
    const lost = runs.filter((r) => r.name.startsWith('long-'));
    expect(lost.every((r) => r.phase === 'Error' && r.reason === 'ExecutorLost')).toBe(true);
    const rest = runs.filter((r) => r.name.startsWith('short-'));
    expect(rest.every((r) => r.phase === 'Passed')).toBe(true);
    // Lines written before the crash survived; completed runs logged each line once.
    const lostLog = await api(`${second.url}/api/runs/${lost[0].id}/logs`);
    expect(lostLog.body.items.map((l: any) => l.message)).toEqual([`start ${lost[0].env.N}`]);
    for (const r of rest.slice(0, 20)) {
      const log = await api(`${second.url}/api/runs/${r.id}/logs`);
      expect(log.body.items.map((l: any) => l.message)).toEqual([`start ${r.env.N}`, `end ${r.env.N}`]);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('stops a runaway script at its timeout while the server keeps serving', async () => {
    const data = await mkdtemp(join(tmpdir(), 'topas-runaway-'));
    dirs.push(data);
    const topas = await startTopasProcess(['--data', data, '--no-examples']);
    started.push(topas);
    const plain = await api(`${topas.url}/api/runs`, { body: { script: 'while true do end', timeoutSeconds: 1 } });
    const wrapped = await api(`${topas.url}/api/runs`, {
      body: { script: 'while true do pcall(function() while true do end end) end', timeoutSeconds: 1 },
    });
    const t0 = Date.now();
    expect((await api(`${topas.url}/healthz`)).status).toBe(200);
    const finished = async (id: string) => until(id, async () => {
      const r = (await api(`${topas.url}/api/runs/${id}`)).body;
      return !['Queued', 'Running'].includes(r.phase) && r;
    });
    const [a, b] = await Promise.all([finished(plain.body.id), finished(wrapped.body.id)]);
    expect(a.phase).toBe('TimedOut');
    expect(b.phase).toBe('TimedOut');
    expect(a.durationMs).toBeLessThan(2000);
    expect(b.durationMs).toBeLessThan(2000);
    // The memory bomb on its own: runs share worker threads, and a CPU-bound run
    // delays the others in its worker (see docs/operations.md, Limits).
    const bomb = await api(`${topas.url}/api/runs`, {
      body: { script: 'local t = {}\nfor i = 1, 1e9 do t[i] = string.rep("x", 100) .. i end', timeoutSeconds: 30 },
    });
    const c = await finished(bomb.body.id);
    expect(c.phase).toBe('Error');
    expect(c.reason).toBe('MemoryLimit');
    expect(c.message).toMatch(/memory/i);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await api(`${topas.url}/healthz`)).status).toBe(200);
    const ok = await api(`${topas.url}/api/runs`, { body: { script: 'assert(true)' } });
    expect((await finished(ok.body.id)).phase).toBe('Passed');
    topas.child.kill('SIGTERM');
    await topas.exited;
  }, 60_000);
});
