/** The `topas` binary as a child process against a real topas over HTTP. */
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli, type CliResult } from './testing/cli-process.js';

let topas: TestTopas;
let dir: string;
beforeAll(async () => {
  [topas, dir] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-cli-'))]);
  await writeFile(join(dir, 'pass.lua'), 'print("hello from lua")\ntest("math", function()\n  step("adds", function() assert(1 + 1 == 2) end)\nend)\n');
  await writeFile(join(dir, 'fail.lua'), 'print("checking out")\nstep("pay", function()\n  assert(2 + 2 == 5, "total is 5")\nend)\n');
});
afterAll(async () => {
  await topas?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function cli(args: string[], url = topas.url): Promise<CliResult> {
  return runTopasCli(args, { url, cwd: dir, dataDir: topas.config.dataDir });
}

describe('topas CLI', () => {
  it('schedule --wait on a passing script streams logs and steps and exits 0', async () => {
    const r = await cli(['test', 'schedule', '--script', 'pass.lua', '--wait', '--label', 'suite=cli']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hello from lua/);
    expect(r.stdout).toMatch(/✓ math \(\d+ ms\)/);
    expect(r.stdout).toMatch(/ {2}✓ adds/);
    expect(r.stdout).toMatch(/Passed in .* — 2 steps passed, 0 failed; 1 assertion passed, 0 failed/);
  });

  it('schedule --wait on a failing script exits 1 and shows the failed assertion with file:line', async () => {
    const r = await cli(['test', 'schedule', '--script', 'fail.lua', '--wait']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/checking out/);
    expect(r.stdout).toMatch(/✗ pay — assertion failed: total is 5 \(fail\.lua:3\)/);
    expect(r.stdout).toMatch(/Failed in .*AssertionFailed/);
    expect(r.stdout).toMatch(/Failed assertions\n {2}✗ assertion failed: total is 5 \(fail\.lua:3\)/);
  });

  it('reports a missing script file and an unreachable server with exit 2', async () => {
    const missing = await cli(['test', 'schedule', '--script', 'examples/x.lua']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: cannot read script examples/x.lua: no such file');
    const port = await closedPort();
    const down = await cli(['test', 'status'], `http://127.0.0.1:${port}`);
    expect(down.code).toBe(2);
    expect(down.stderr.trim()).toBe(
      `error: cannot reach topas at http://127.0.0.1:${port} (connection refused) — start it with "npx topas up" or set TOPAS_URL`,
    );
  });

  it('status lists runs, shows one by id prefix, logs prints its log, unknown ids are named', async () => {
    const page = (await (await topas.get('/api/runs?label=suite=cli')).json()) as { items: { id: string }[] };
    const id = page.items[0]!.id;
    const list = await cli(['test', 'status']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+PHASE\s+DURATION\s+ORIGIN\s+STARTED$/);
    expect(list.stdout).toMatch(/\bfail\s+Failed\s+\d+ ms\s+cli\b/);
    expect(list.stdout).toMatch(/\bpass\s+Passed\s+[\d.]+ m?s\s+cli\b/);

    const one = await cli(['test', 'status', id.slice(0, 23)]); // a unique prefix
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`Run\\s+${id}`));
    expect(one.stdout).toMatch(/Phase\s+Passed/);
    expect(one.stdout).toMatch(/✓ math[^\n]*\n\s+✓ adds/);

    const logs = await cli(['test', 'logs', id]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} hello from lua$/m);

    const unknown = await cli(['test', 'logs', '1234abcd']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('error: run 1234abcd not found');
  });
});
