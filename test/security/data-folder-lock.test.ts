/**
 * Issue 9, hole 8: two servers on one data folder. A second `topas up` on a folder in
 * use used to start anyway and take over the first one's Apps (stopping its replicas
 * and databases as "leftovers") and runs. Now it exits 2 naming the holder, having
 * touched nothing; a lock left by a killed topas is taken over, by exactly one of
 * two starts racing for it. Real `topas up` processes throughout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoService } from '../../src/apps/local/testing/helpers.js';
import { api, startTopasProcess, TOPAS_BIN, until, type TopasProcess } from '../topas-process.js';

let top: string;
let data: string;
const started: TopasProcess[] = [];

beforeAll(async () => {
  top = await mkdtemp(join(tmpdir(), 'topas-lock-'));
  data = join(top, '.topas');
});

afterAll(async () => {
  for (const p of started) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }
  await rm(top, { recursive: true, force: true });
});

/** `topas up` in `cwd` that is expected to fail: its exit code and output ('served' if it started instead; it is then stopped). */
function failedStart(args: string[], cwd: string): Promise<{ code: number | 'served' | null; output: string }> {
  const child = spawn(process.execPath, [TOPAS_BIN, 'up', '--port', '0', '--no-examples', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let served = false;
  const collect = (d: Buffer) => {
    output += d;
    if (!served && /topas is running at/.test(output)) {
      served = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: served ? 'served' : code, output })));
}

/** Starts `topas up` and reports whichever comes first: it serves, or it exits. */
async function contend(args: string[]): Promise<{ up: TopasProcess } | { exited: string }> {
  try {
    const up = await startTopasProcess(args);
    started.push(up);
    return { up };
  } catch (error) {
    return { exited: (error as Error).message };
  }
}

const app = { spec: { services: [echoService({ name: 'echo' })] } };

async function readyApp(url: string) {
  return until('App "keep" ready', async () => {
    const res = await api(`${url}/api/apps/keep`);
    const service = res.body?.status?.services?.[0];
    return service?.readyReplicas === 1 && res.body.status.observedGeneration === res.body.metadata.generation ? res.body : undefined;
  }, 60_000);
}

async function passedRun(url: string, name: string) {
  const created = await api(`${url}/api/runs`, { body: { name, appName: 'keep', script: 'expect(net.get("http://echo/").code).to_be(200)' } });
  expect(created.status).toBe(201);
  return until(`run ${name} finished`, async () => {
    const run = (await api(`${url}/api/runs/${created.body.id}`)).body;
    return ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'].includes(run.phase) ? run : undefined;
  });
}

describe('two servers on one data folder', () => {
  let first: TopasProcess;
  let replicaPid: number;

  it('a second topas up exits 2 naming the holder, and the first keeps serving its App and runs', async () => {
    first = await startTopasProcess(['--data', data, '--no-examples']);
    started.push(first);
    expect((await api(`${first.url}/api/apps/keep`, { method: 'PUT', body: app })).status).toBe(201);
    replicaPid = (await readyApp(first.url)).status.services[0].replicaStatuses[0].pid;
    expect((await passedRun(first.url, 'before')).phase).toBe('Passed');

    // As a user would type it, from the folder that holds .topas.
    const second = await failedStart(['--data', '.topas'], top);
    expect(second.code).toBe(2);
    expect(second.output).toMatch(
      new RegExp(`error: data folder \\./\\.topas is in use by PID ${first.child.pid} \\(started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\); stop it or use --data\\n`),
    );

    // The first one did not notice: same replica, still ready, runs still pass.
    const after = await readyApp(first.url);
    expect(after.status.services[0].replicaStatuses[0].pid).toBe(replicaPid);
    expect((await passedRun(first.url, 'after')).phase).toBe('Passed');
    expect(JSON.parse(await readFile(join(data, 'topas.lock'), 'utf8')).pid).toBe(first.child.pid);
  }, 180_000);

  it('after kill -9 of the holder, two starts race for its stale lock: exactly one takes over and serves', async () => {
    first.child.kill('SIGKILL');
    await first.exited;

    const outcomes = await Promise.all([contend(['--data', data, '--no-examples']), contend(['--data', data, '--no-examples'])]);
    const winners = outcomes.flatMap((o) => ('up' in o ? [o.up] : []));
    const losers = outcomes.flatMap((o) => ('exited' in o ? [o.exited] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const winner = winners[0]!;
    expect(losers[0]).toContain('topas exited (2)');
    expect(losers[0]).toContain(`is in use by PID ${winner.child.pid} `);

    // The winner has the folder's Apps and runs.
    const adopted = await readyApp(winner.url);
    expect(adopted.metadata.name).toBe('keep');
    expect((await passedRun(winner.url, 'after restart')).phase).toBe('Passed');
    winner.child.kill('SIGTERM');
    expect(await winner.exited).toBe(0);
    // A clean stop releases the lock.
    await expect(readFile(join(data, 'topas.lock'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  }, 180_000);
});
