/**
 * `npm run test-cluster -- --kubeconfig FILE`, exactly as the checks run it: it
 * prints `ready`, kubectl works with the kubeconfig (a Pod runs on the simulated
 * kubelet and its log is served), and SIGTERM stops it.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it, vi } from 'vitest';

const repo = path.resolve(import.meta.dirname, '..', '..');

it('npm run test-cluster serves kubectl until SIGTERM', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'topas-test-cluster-main-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  const child = spawn('npm', ['run', '--silent', 'test-cluster', '--', '--kubeconfig', kubeconfig], { cwd: repo });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await vi.waitFor(() => expect(out).toBe('ready\n'), { timeout: 20_000, interval: 50 });
    const kubectl = (...args: string[]) =>
      promisify(execFile)('/usr/bin/kubectl', [`--cache-dir=${dir}/cache`, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } });
    expect((await kubectl('get', 'namespace', 'default', '-o', 'name')).stdout).toBe('namespace/default\n');
    await kubectl('run', 'hello', '--image=busybox:1.36', '--restart=Never', '--', 'echo', 'hello from the test cluster');
    await vi.waitFor(async () => expect((await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}')).stdout).toBe('Succeeded'), { timeout: 15_000 });
    expect((await kubectl('logs', 'hello')).stdout).toBe('hello from the test cluster\n');
  } finally {
    child.kill('SIGTERM'); // npm's own pid only, as a supervisor would: the server must still stop
  }
  await exited;
  const url = /server: (\S+)/.exec(await readFile(kubeconfig, 'utf8'))![1];
  await expect(fetch(url)).rejects.toThrow();
}, 60_000);
