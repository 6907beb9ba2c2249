/** The `topas` binary as a child process against a real topas over HTTP. */
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli, type CliResult } from './testing/cli-process.js';

let topas: TestTopas;
let dir: string;
beforeAll(async () => {
  [topas, dir] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-cli-'))]);
  await writeFile(join(dir, 'pass.lua'), 'print("hello from lua")\ntest("math", function()\n  step("adds", function() assert(1 + 1 == 2) end)\nend)\n');
  await writeFile(
    join(dir, 'tree.lua'),
    [
      'log.info("top-level")',
      'before_all(function() log.info("in before_all") end)',
      'after_all(function() log.info("in after_all") end)',
      'test("outer", function()',
      '  log.info("in outer")',
      '  step("inner one", function()',
      '    sleep(200)',
      '    step("deepest", function() sleep(200) end)',
      '    log.info("in inner one")',
      '  end)',
      '  step("inner two", function() sleep(200) end)',
      'end)',
      'test("second", function() expect(1).to_be(1) end)',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'fail.lua'), 'print("checking out")\nstep("pay", function()\n  assert(2 + 2 == 5, "total is 5")\nend)\n');
  await writeFile(join(dir, 'diff.lua'), 'test("tables", function()\n  step("compare", function()\n    expect({ a = 1, b = 2 }).to_equal({ a = 1, c = 3 })\n  end)\nend)\n');
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

  it('a failed table expect: each difference printed once, one per line, in --wait and in status', async () => {
    const count = (text: string, part: string) => text.split(part).length - 1;
    const waited = await cli(['test', 'schedule', '--script', 'diff.lua', '--wait']);
    expect(waited.code).toBe(1);
    const id = /^run (\S+) /.exec(waited.stdout)![1]!;
    const status = await cli(['test', 'status', id]);
    for (const out of [waited.stdout, status.stdout]) {
      expect(out).toMatch(/^ {6}\.b: unexpected key \(got 2\)$/m);
      expect(out).toMatch(/^ {6}\.c: expected 3, got nil$/m);
      expect(count(out, '.b: unexpected key (got 2)')).toBe(1);
      expect(count(out, '.c: expected 3, got nil')).toBe(1);
      expect(out).not.toMatch(/unexpected key.*expected 3/);
      // the failed steps say what failed in one line
      expect(out).toMatch(/✗ compare — expected the tables to be equal \(2 differences\) \(diff\.lua:3\)$/m);
    }
  });

  it('schedule --wait prints the step tree as test status does: start order, hooks, parents first, after "running"', async () => {
    const r = await cli(['test', 'schedule', '--script', 'tree.lua', '--wait']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const id = /^run (\S+) "tree" queued$/.exec(lines[0]!)![1]!;
    expect(lines[1]).toMatch(/^▶ running on /);
    const status = await cli(['test', 'status', id]);
    const tree = status.stdout.trimEnd().split('\nSteps\n')[1]!.split('\n\n')[0]!.split('\n').map((l) => l.slice(2));
    expect(tree.map((l) => l.replace(/ \(.*\)$/, ''))).toEqual(['✓ before_all', '✓ outer', '  ✓ inner one', '    ✓ deepest', '  ✓ inner two', '✓ second', '✓ after_all']);
    const stepLines = lines.filter((l) => /^\s*[✓✗…-] /.test(l));
    expect(stepLines.map((l) => l.replace(/ \(.*\)$/, ''))).toEqual(tree.map((l) => l.replace(/ \(.*\)$/, '')));
    // Each block's log lines come before its tree, and the next block's after it.
    const order = ['top-level', 'in before_all', '✓ before_all', 'in outer', 'in inner one', '✓ outer', '✓ second', 'in after_all', '✓ after_all'];
    const positions = order.map((text) => lines.findIndex((l) => l.endsWith(text) || l.startsWith(text)));
    expect(positions.every((p, i) => p > 0 && (i === 0 || p > positions[i - 1]!)), `${order.join(' < ')} in:\n${r.stdout}`).toBe(true);
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

  it('test list shows definition ids that tell them apart, and --definition takes them, a name or a full id', async () => {
    // Definitions stored together (the examples at start-up) get UUIDv7 ids of the same minute.
    const now = Date.now();
    const alpha = await topas.store.createDefinition({ id: newId(now), name: 'alpha', script: 'log.info("I am alpha")' });
    const beta = await topas.store.createDefinition({ id: newId(now), name: 'beta', script: 'log.info("I am beta")' });
    expect(alpha.id.slice(0, 8)).toBe(beta.id.slice(0, 8));

    const list = await cli(['test', 'list']);
    expect(list.code).toBe(0);
    const shown = Object.fromEntries(list.stdout.split('\n').slice(1).map((line) => line.split(/\s+/).slice(0, 2)));
    expect(shown.alpha).not.toBe(shown.beta);
    expect(alpha.id.startsWith(shown.alpha!) && beta.id.startsWith(shown.beta!)).toBe(true);

    for (const [given, definition] of [
      [shown.alpha!, alpha],
      ['beta', beta],
      [beta.id, beta],
    ] as const) {
      const r = await cli(['test', 'schedule', '--definition', given, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: definition.name, source: { type: 'definition', definitionId: definition.id } });
    }

    const ambiguous = await cli(['test', 'schedule', '--definition', alpha.id.slice(0, 8)]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`error: definition id ${alpha.id.slice(0, 8)} is ambiguous; it matches:\n  ${alpha.id}  alpha\n  ${beta.id}  beta`);
    const missing = await cli(['test', 'schedule', '--definition', 'gamma']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: definition gamma not found; give its name, its id or the ID column of "topas test list"');
  }, 60_000);
});
