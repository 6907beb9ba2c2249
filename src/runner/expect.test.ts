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

type Assertion = Extract<RunEvent, { type: 'assertion' }>;
interface Result extends ScriptResult {
  assertions: Assertion[];
}

async function run(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  const r = await runScript(runner, { script, ...extra });
  return { ...r, assertions: r.events.filter((e): e is Assertion => e.type === 'assertion') };
}

/** Runs `line` as line 2 of a script: it must fail with `message` at hello.lua:2. */
async function failsWith(line: string, message: string | RegExp): Promise<Assertion> {
  const r = await run(`local net_like = { code = 404, body = '{"error":"no such user"}', url = "http://x/u" }\n${line}\nprint("not reached")`);
  expect(r.completion.phase, r.completion.message ?? '').toBe('Failed');
  expect(r.completion.reason).toBe('AssertionFailed');
  const failed = r.assertions.filter((a) => !a.passed);
  expect(failed).toHaveLength(1);
  const a = failed[0]!;
  expect(a.location).toEqual({ file: 'hello.lua', line: 2 });
  if (typeof message === 'string') expect(a.message).toBe(message);
  else expect(a.message).toMatch(message);
  expect(r.completion.message).toBe(`hello.lua:2: ${a.message}`);
  expect(r.logs).not.toContain('info: not reached');
  return a;
}

describe('expect matchers pass', () => {
  it('records each passing matcher with its line', async () => {
    const script = [
      'local resp = { code = 200, body = "ok" }',
      'expect({ a = { 1, 2 }, b = "x" }).to_equal({ b = "x", a = { 1, 2 } })',
      'local t = {} expect(t).to_be(t)',
      'expect("hello world").to_contain("lo w")',
      'expect({ "a", "b" }).to_contain("b")',
      'expect({ id = 1 }).to_contain("id")',
      'expect({ { id = 1 } }).to_contain({ id = 1 })',
      'expect("order-42").to_match("^order%-%d+$")',
      'expect(0).to_be_truthy()',
      'expect(false).to_be_falsy()',
      'expect(nil).to_be_nil()',
      'expect(3).to_be_greater_than(2)',
      'expect(2).to_be_less_than(3)',
      'expect(resp).to_have_status(200)',
      'expect({ 1, 2, 3 }).to_have_length(3)',
      'expect("abc").to_have_length(3)',
      'local e = expect(function() error("boom") end).to_fail()',
      'assert(e:find("boom"), "to_fail returns the error")',
      'expect(function() error({ code = 1 }) end).to_error("code")',
      'expect(function() error("bad input: x") end).to_error("bad input")',
      'expect(1).never.to_equal(2)',
      'expect(function() end).never.to_fail()',
      'expect("abc").never.to_contain("z")',
      'expect(1).to_equal(1.0)',
      'expect(json.null).to_equal(json.null)',
    ].join('\n');
    const r = await run(script);
    expect(r.completion, r.completion.message ?? '').toMatchObject({ phase: 'Passed' });
    expect(r.completion.summary.assertionsFailed).toBe(0);
    expect(r.assertions.every((a) => a.passed)).toBe(true);
    expect(r.assertions[0]).toMatchObject({ message: expect.stringContaining('to equal'), location: { file: 'hello.lua', line: 2 } });
    expect(r.assertions.find((a) => a.location?.line === 14)).toMatchObject({ expected: '200', actual: '200' });
  });

  it('a failing function given to to_fail does not record its assertions', async () => {
    const r = await run('expect(function() assert(false, "inner") end).to_fail()\nexpect(function() expect(1).to_be(2) end).to_error("to be 2")');
    expect(r.completion, r.completion.message ?? '').toMatchObject({ phase: 'Passed' });
    expect(r.assertions.map((a) => a.passed)).toEqual([true, true]);
  });
});

describe('expect matchers fail with clear messages', () => {
  it('to_equal: scalars, and a diff of paths for nested tables', async () => {
    const a = await failsWith('expect(1).to_equal(2)', 'expected 1 to equal 2');
    expect(a).toMatchObject({ expected: '2', actual: '1' });
    const b = await failsWith(
      'expect({ user = { name = "al", roles = { "admin", "ops" } } }).to_equal({ user = { name = "al", roles = { "admin", "dev" }, age = 3 } })',
      'expected the tables to be equal (2 differences)\n.user.age: expected 3, got nil\n.user.roles[2]: expected "dev", got "ops"',
    );
    expect(b.expected).toBe('{"user":{"age":3,"name":"al","roles":["admin","dev"]}}');
    expect(b.actual).toBe('{"user":{"name":"al","roles":["admin","ops"]}}');
    await failsWith(
      'expect({ ["a b"] = 1, extra = true }).to_equal({ ["a b"] = 2 })',
      'expected the tables to be equal (2 differences)\n["a b"]: expected 2, got 1\n.extra: unexpected key (got true)',
    );
  });

  it('to_equal: one difference per line, each once; the log line and the step say the headline only', async () => {
    const r = await run('step("compare", function()\n  expect({ a = 1, b = 2 }).to_equal({ a = 1, c = 3 })\nend)');
    const diff = 'expected the tables to be equal (2 differences)\n.b: unexpected key (got 2)\n.c: expected 3, got nil';
    expect(r.assertions.find((a) => !a.passed)?.message).toBe(diff);
    expect(r.completion.message).toBe(`hello.lua:2: ${diff}`);
    expect(r.logs).toEqual(['error: step "compare" failed: hello.lua:2: expected the tables to be equal (2 differences)']);
  });

  it('to_equal: at most 10 differences, then "… and more"', async () => {
    const a = await failsWith('local t = {} for i = 1, 12 do t[i] = i end expect(t).to_equal({})', /^expected the tables to be equal \(more than 10 differences\)\n/);
    const lines = a.message.split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[1]).toBe('[1]: unexpected key (got 1)');
    expect(lines[11]).toBe('… and more');
  });
  it('to_be', async () => {
    await failsWith('expect("a").to_be("b")', 'expected "a" to be "b"');
    await failsWith('expect({}).to_be({})', 'expected {} to be {} (a different table with the same content; use to_equal)');
  });
  it('to_contain / to_match', async () => {
    await failsWith('expect("hello").to_contain("xyz")', 'expected "hello" to contain "xyz"');
    await failsWith('expect({ 1, 2 }).to_contain(3)', 'expected [1,2] to contain 3');
    await failsWith('expect("abc").to_match("^%d+$")', 'expected "abc" to match "^%d+$"');
    await failsWith('expect(42).to_match("4")', 'expected 42 to match "4"');
  });
  it('truthy / falsy / nil / comparisons / length', async () => {
    await failsWith('expect(nil).to_be_truthy()', 'expected nil to be truthy');
    await failsWith('expect(0).to_be_falsy()', 'expected 0 to be falsy');
    await failsWith('expect("x").to_be_nil()', 'expected "x" to be nil');
    await failsWith('expect(1).to_be_greater_than(5)', 'expected 1 to be greater than 5');
    await failsWith('expect(9).to_be_less_than(5)', 'expected 9 to be less than 5');
    await failsWith('expect("1").to_be_less_than(5)', 'expected "1" to be less than 5');
    const a = await failsWith('expect({ 1, 2 }).to_have_length(3)', 'expected [1,2] to have length 3, got 2');
    expect(a).toMatchObject({ expected: '3', actual: '2' });
  });
  it('to_have_status shows the body', async () => {
    const a = await failsWith('expect(net_like).to_have_status(200)', 'expected status 200, got 404 from http://x/u: {"error":"no such user"}');
    expect(a).toMatchObject({ expected: '200', actual: '404' });
  });
  it('to_fail / to_error', async () => {
    await failsWith('expect(function() return 1 end).to_fail()', 'expected the function to fail, it returned normally');
    await failsWith(
      'expect(function() error("timeout", 0) end).to_error("not found")',
      'expected the function to raise an error matching "not found", it raised: timeout',
    );
  });
  it('never negates', async () => {
    const a = await failsWith('expect(2).never.to_equal(2)', 'expected 2 not to equal 2');
    expect(a.expected).toBe('not 2');
    await failsWith('expect(nil).never.to_be_nil()', 'expected a value, got nil');
    await failsWith('expect(function() error("x", 0) end).never.to_fail()', 'expected the function not to fail, it raised: x');
  });
  it('records the failure even when caught, and misuse is an error naming the line', async () => {
    const r = await run('local ok = pcall(function() expect(1).to_be(2) end)\nassert(not ok)');
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: 'hello.lua:1: expected 1 to be 2' });
    const m = await run('\nexpect(1).to_bee(1)');
    expect(m.completion.message).toMatch(/^hello\.lua:2: expect\(\.\.\.\)\.to_bee is not a matcher \(matchers: .*to_equal/);
  });
});

describe('eventually', () => {
  it('retries until fn passes and returns its results; failed attempts are not recorded', async () => {
    const r = await run(
      [
        'local n = 0',
        'local v, w = eventually(function()',
        '  n = n + 1',
        '  expect(n).to_be_greater_than(2)',
        '  return n * 10, "x"',
        'end, { timeout = "2s", interval = "10ms" })',
        'assert(v == 30 and w == "x", "results")',
      ].join('\n'),
    );
    expect(r.completion, r.completion.message ?? '').toMatchObject({ phase: 'Passed' });
    expect(r.assertions.map((a) => [a.passed, a.location?.line])).toEqual([
      [true, 4],
      [true, 7],
    ]);
  });

  it('fails after its timeout with the last failure only', async () => {
    const started = Date.now();
    const r = await run(
      ['local n = 0', 'eventually(function()', '  n = n + 1', '  expect(n).to_equal(-1)', 'end, { timeout = 300, interval = "50ms" })'].join('\n'),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(r.completion.phase).toBe('Failed');
    const failed = r.assertions.filter((a) => !a.passed);
    expect(failed).toHaveLength(1);
    const attempts = Number(/\((\d+) attempts\)/.exec(r.logs.join('\n'))?.[1]);
    expect(attempts).toBeGreaterThan(3);
    expect(failed[0]!.message).toBe(`expected ${attempts} to equal -1`);
    expect(r.logs.at(-1)).toBe(
      `error: hello.lua:2: eventually: still failing after 300ms (${attempts} attempts): hello.lua:4: expected ${attempts} to equal -1`,
    );
  });
});
