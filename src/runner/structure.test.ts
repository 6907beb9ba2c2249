import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { createLuaRunner } from './lua-runner.js';
import { runScript, type ScriptResult } from './testing/script-run.js';
import type { ScriptJob, ScriptRunner } from './runner.js';

let runner: ScriptRunner;
let n = 0;
beforeAll(() => {
  runner = createLuaRunner({ workers: 2 });
});
afterAll(async () => {
  await runner?.close();
});

interface Result extends ScriptResult {
  /** "kind name: status (message)" in end order, plus start order in `started`. */
  steps: string[];
  started: string[];
}

async function run(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  const r = await runScript(runner, { script, ...extra });
  const names = new Map<number, string>();
  const started: string[] = [];
  const steps: string[] = [];
  for (const e of r.events) {
    if (e.type === 'step.start') {
      names.set(e.seq, `${e.kind} ${e.name}`);
      started.push(`${e.kind} ${e.name}`);
    }
    if (e.type === 'step.end') steps.push(`${names.get(e.seq)}: ${e.status}${e.message ? ` (${e.message})` : ''}`);
  }
  return { ...r, steps, started };
}

describe('skip', () => {
  it('ends a test or step as skipped, counted, and the run passes', async () => {
    const r = await run(
      [
        'test("needs a feature flag", function()',
        '  skip("flag off")',
        '  error("not reached")',
        'end)',
        'test("outer", function()',
        '  step("optional", function() skip() end)',
        '  step("after", function() print("after ran") end)',
        'end)',
      ].join('\n'),
    );
    expect(r.completion).toMatchObject({ phase: 'Passed', message: null, summary: { stepsSkipped: 2, stepsPassed: 2, stepsFailed: 0 } });
    expect(r.steps).toEqual([
      'test needs a feature flag: skipped (flag off)',
      'step optional: skipped',
      'step after: passed',
      'test outer: passed',
    ]);
    expect(r.logs).toContain('info: after ran');
  });

  it('at top level skips the rest of the script; the run passes and says so', async () => {
    const r = await run('print("before")\nif not env.STAGING then skip("staging only") end\nprint("after")', {});
    expect(r.completion).toMatchObject({ phase: 'Passed', reason: null, message: 'skipped: staging only' });
    expect(r.logs).toEqual(['info: before', 'info: skipped: staging only']);
  });

  it('a failure before skip in the same test still fails it', async () => {
    const r = await run('test("t", function()\n  pcall(assert, false, "x")\n  skip("later")\nend)');
    expect(r.completion.phase).toBe('Failed');
    expect(r.steps).toEqual(['test t: failed (hello.lua:2: assertion failed: x)']);
  });
});

describe('hooks and defer', () => {
  it('runs hooks in order as steps of kind hook, around each top-level test', async () => {
    const r = await run(
      [
        'local order = {}',
        'local function note(s) order[#order + 1] = s end',
        'before_all(function() note("before_all") end)',
        'after_all(function() note("after_all") print(table.concat(order, ",")) end)',
        'before_each(function() note("before_each") end)',
        'after_each(function() note("after_each") end)',
        'test("a", function() note("a") test("nested", function() note("nested") end) end)',
        'test("b", function() note("b") end)',
      ].join('\n'),
    );
    expect(r.completion, r.completion.message ?? '').toMatchObject({ phase: 'Passed' });
    expect(r.logs).toEqual(['info: before_all,before_each,a,nested,after_each,before_each,b,after_each,after_all']);
    expect(r.started).toEqual([
      'hook before_all',
      'test a',
      'hook before_each',
      'test nested',
      'hook after_each',
      'test b',
      'hook before_each',
      'hook after_each',
      'hook after_all',
    ]);
    const hook = r.events.find((e) => e.type === 'step.start' && e.kind === 'hook');
    expect(hook).toMatchObject({ location: { file: 'hello.lua', line: 3 } });
  });

  it('after_each, after_all and defer run even when a test failed; the failure stays the run message', async () => {
    const r = await run(
      [
        'after_each(function() print("after_each") end)',
        'after_all(function() print("after_all") end)',
        'test("fails", function()',
        '  defer(function() print("defer 1") end)',
        '  defer(function() print("defer 2") end)',
        '  step("boom", function() error("boom") end)',
        '  print("not reached")',
        'end)',
        'error("script error")',
      ].join('\n'),
    );
    expect(r.completion).toMatchObject({ phase: 'Failed', message: 'hello.lua:6: boom' });
    expect(r.logs.filter((l) => l.startsWith('info'))).toEqual(['info: defer 2', 'info: defer 1', 'info: after_each', 'info: after_all']);
    expect(r.logs).toContain('error: hello.lua:9: script error');
    expect(r.steps).toContain('hook after_all: passed');
  });

  it('a failing hook fails the run; a failing before_each fails its test without running it', async () => {
    const r = await run(
      [
        'before_each(function() error("no db") end)',
        'test("t", function() print("body") end)',
      ].join('\n'),
    );
    expect(r.completion).toMatchObject({ phase: 'Failed', message: 'hello.lua:1: no db' });
    expect(r.steps).toEqual(['hook before_each: failed (hello.lua:1: no db)', 'test t: failed (hello.lua:1: no db)']);
    expect(r.logs).not.toContain('info: body');

    const a = await run('after_all(function() assert(false, "cleanup") end)\ntest("t", function() end)');
    expect(a.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: 'hello.lua:1: assertion failed: cleanup' });
  });

  it('a failing before_all skips the tests', async () => {
    const r = await run('before_all(function() error("setup") end)\ntest("t", function() print("body") end)');
    expect(r.completion).toMatchObject({ phase: 'Failed', message: 'hello.lua:1: setup' });
    expect(r.steps).toEqual(['hook before_all: failed (hello.lua:1: setup)', 'test t: skipped (before_all failed: hello.lua:1: setup)']);
  });

  it('a failing defer fails its test; top-level defer runs when the script ends', async () => {
    const r = await run(
      [
        'defer(function() print("script end") end)',
        'test("t", function()',
        '  defer(function() error("cleanup failed") end)',
        'end)',
        'print("after t")',
      ].join('\n'),
    );
    expect(r.completion).toMatchObject({ phase: 'Failed', message: 'hello.lua:3: cleanup failed' });
    expect(r.logs).toEqual(['error: defer (hello.lua:3) failed: hello.lua:3: cleanup failed', 'info: after t', 'info: script end']);
  });

  it('hooks must be registered at the top level', async () => {
    const r = await run('test("t", function()\n  before_each(function() end)\nend)');
    expect(r.completion.message).toBe('hello.lua:2: before_each must be called at the top level of the script, not inside a test or step');
  });
});
