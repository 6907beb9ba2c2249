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

type Result = ScriptResult;

async function run(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  return runScript(runner, { script, ...extra });
}

async function passes(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  const r = await run(script, extra);
  expect({ phase: r.completion.phase, message: r.completion.message, logs: r.logs }).toMatchObject({ phase: 'Passed' });
  return r;
}

const files = {
  'helpers.lua': 'local M = {}\nM.loads = (M.loads or 0) + 1\nfunction M.double(x) return x * 2 end\nreturn M\n',
  'lib/http.lua': 'local helpers = require("helpers")\nlocal M = {}\nfunction M.quad(x) return helpers.double(helpers.double(x)) end\nreturn M\n',
  'lib/users/init.lua': 'return { name = "users", args = { ... } }\n',
  'lib/broken.lua': 'local M = {}\n\nfunction M.go()\n  error("broken on purpose")\nend\nreturn M\n',
  'lib/checks.lua': 'return function(v)\n  expect(v).to_equal(1)\nend\n',
  'lib/syntax.lua': 'local x = \n',
  'fixtures/data.json': '{}',
  'cycle_a.lua': 'local b = require("cycle_b")\nreturn b',
  'cycle_b.lua': 'local a = require("cycle_a")\nreturn a',
  'noreturn.lua': 'GLOBAL_SET = true',
};

describe('require', () => {
  it('loads bundled files (nested folders, init.lua), cached per run; our modules keep priority', async () => {
    await passes(
      [
        'local h = require("helpers")',
        'assert(require("helpers") == h, "cached")',
        'assert(h.loads == 1)',
        'assert(require("lib.http").quad(3) == 12)',
        'assert(require("lib/http") ~= nil)',
        'local users = require("lib.users")',
        'assert(users.name == "users" and users.args[1] == "lib.users" and users.args[2] == "lib/users/init.lua")',
        'assert(require("json") == json, "ours first")',
        'assert(require("noreturn") == true and GLOBAL_SET)',
      ].join('\n'),
      { files: { ...files, 'json.lua': 'return "shadow"' } },
    );
  });

  it.each([
    ['pairs', 'local names = {}\nfor k in pairs(net) do names[#names + 1] = k end\ntable.sort(names)\nassert(table.concat(names, ","):find("get,grpc"), table.concat(names, ","))'],
    ['require', 'assert(require("db") == db and type(db.connect) == "function")'],
    ['an assignment', 'sut.extra = 1\nassert(sut.extra == 1 and type(sut.status) == "function")'],
    ['the length operator', 'assert(#postman == 0 and type(rawget(postman, "run")) == "function")'],
    ['rawget', 'assert(type(rawget(sut, "status")) == "function")'],
    ['next', 'assert(next(db) ~= nil)'],
    ['setmetatable', 'setmetatable(net, { __index = function() return "mine" end })\nassert(type(net.get) == "function" and net.nothing == "mine")'],
    ['a call of expect', 'expect(1).to_equal(1)\nassert(eventually(function() return 7 end) == 7)'],
    ['rawget in a loaded chunk', 'local f = load("return rawget(...)")\nassert(type(f(net, "get")) == "function")'],
    ['next in a required file', 'assert(require("peek")(db) ~= nil)'],
  ])('modules made on first use are whole from the first touch: %s', async (_how, script) => {
    await passes(script, { files: { 'peek.lua': 'return function(t) return next(t) end\n' } });
  });

  it("a module's code is loaded into a run only when its script uses it, and counts against the run's memory cap", async () => {
    const trivial = await passes('assert(1 + 1 == 2)');
    const withNet = await passes('assert(type(net.get) == "function")');
    // net's code (functions, constants, names) lives in the run's state once used
    expect(withNet.completion.profile!.peakMemoryBytes - trivial.completion.profile!.peakMemoryBytes).toBeGreaterThan(10_000);
    // a cap that leaves no room for it: a clean memory error at first use, as for any allocation
    const r = await run('print("started")\nlocal ok = pcall(function() return net.get end)\nprint("survived", ok)', { memoryLimitBytes: 4 * 1024 });
    expect(r.completion).toMatchObject({ phase: 'Error', reason: 'MemoryLimit' });
    expect(r.logs).toEqual(['info: started']);
  });

  it('the functions that bypass metatables raise their own errors at the script line', async () => {
    for (const [script, message] of [
      ['local t = net\nsetmetatable(1, {})', "hello.lua:2: bad argument #1 to 'setmetatable' (table expected, got number)"],
      ['rawget(1, "x")', "hello.lua:1: bad argument #1 to 'rawget' (table expected, got number)"],
      ['next(1)', "hello.lua:1: bad argument #1 to 'next' (table expected, got number)"],
    ]) {
      const r = await run(script!);
      expect(r.completion.message).toBe(message);
    }
  });

  it('errors inside a required file carry its file and line', async () => {
    const r = await run('local b = require("lib.broken")\n\nb.go()', { files });
    expect(r.completion.message).toBe('lib/broken.lua:4: broken on purpose');
    const s = await run('require("lib.syntax")', { files });
    expect(s.completion.message).toMatch(/^lib\/syntax\.lua:2: unexpected symbol/);
  });

  it('assertions in a required file are located there', async () => {
    const r = await run('local check = require("lib.checks")\ncheck(2)', { files });
    expect(r.completion.message).toBe('lib/checks.lua:2: expected 2 to equal 1');
    const a = r.events.find((e) => e.type === 'assertion');
    expect(a).toMatchObject({ passed: false, location: { file: 'lib/checks.lua', line: 2 } });
  });

  it('a missing module lists our modules and the bundled .lua files', async () => {
    const r = await run('\nrequire("nope")', { files: { 'helpers.lua': 'return {}', 'lib/x.lua': 'return 1', 'data.json': '{}' } });
    expect(r.completion.message).toMatch(
      /^hello\.lua:2: module 'nope' not found: no nope\.lua or nope\/init\.lua in the test's folder \(topas modules: .*json, log, net.*; bundled \.lua files: helpers\.lua, lib\/x\.lua\)$/,
    );
  });

  it('cannot leave the bundle', async () => {
    for (const name of ['../x', '/etc/passwd', 'lib/../helpers', '.helpers', 'a..b', 'fixtures/data.json']) {
      const r = await run(`require(${JSON.stringify(name)})`, { files: { ...files, '../x.lua': 'return 1' } });
      expect(r.completion.phase, name).toBe('Failed');
      expect(r.completion.message, name).toContain('not found');
    }
  });

  it('reports a circular require', async () => {
    const r = await run('require("cycle_a")', { files });
    expect(r.completion.message).toBe("cycle_b.lua:1: require: module 'cycle_a' is being loaded (circular require)");
  });
});

describe('utilities', () => {
  it('yaml, base64, uuid, time', async () => {
    await passes(
      [
        'local doc = yaml.decode("name: alice\\nroles: [admin, dev]\\nmanager: null\\ntags: []\\nn: 3\\n")',
        'expect(doc).to_equal({ name = "alice", roles = { "admin", "dev" }, manager = json.null, tags = {}, n = 3 })',
        'expect(json.encode(doc.tags)).to_be("[]")',
        'expect(yaml.encode({ b = { 1, 2 }, a = "x" })).to_be("a: x\\nb:\\n  - 1\\n  - 2\\n")',
        'expect(yaml.decode(yaml.encode({ k = { v = true } }))).to_equal({ k = { v = true } })',
        'expect(function() yaml.decode("a: [1,") end).to_error("yaml.decode: invalid YAML")',
        'expect(function() yaml.encode({ f = print }) end).to_error("yaml.encode: cannot encode a function")',
        'expect(require("yaml")).to_be(yaml)',
        'for _, s in ipairs({ "", "f", "fo", "foo", "foob", "fooba", "foobar", "\\0\\255\\128" }) do',
        '  assert(base64.decode(base64.encode(s)) == s, "round trip " .. base64.encode(s))',
        'end',
        'expect(base64.encode("foobar")).to_be("Zm9vYmFy")',
        'expect(base64.encode("fo")).to_be("Zm8=")',
        'expect(base64.decode("Zm8")).to_be("fo")',
        'expect(base64.decode("Pz8_")).to_be("???")',
        'expect(function() base64.decode("a$b=") end).to_error("invalid character")',
        'local id = uuid()',
        'expect(id).to_match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")',
        'expect(uuid()).never.to_be(id)',
        'local t0 = time.now()',
        'expect(t0).to_be_greater_than(1.6e12)',
        'sleep(20)',
        'expect(time.since(t0)).to_be_greater_than(15)',
        'expect(time.iso()).to_match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d+Z$")',
      ].join('\n'),
    );
  });
});

describe('secrets are masked', () => {
  it('in logs, assertion messages and values, step messages and the run message', async () => {
    const env = { API_TOKEN: 's3cr3t-value', DB_PASSWORD: 'hunter22', PIN_SECRET: 'abc', USER: 'alice-admin' };
    const r = await run(
      [
        'print("token is " .. env.API_TOKEN, "user " .. env.USER)',
        'log.warn({ pw = env.DB_PASSWORD, short = env.PIN_SECRET })',
        'test("login with " .. env.DB_PASSWORD, function()',
        '  expect("Bearer " .. env.API_TOKEN).to_equal("Bearer nope")',
        'end)',
      ].join('\n'),
      { env },
    );
    const text = JSON.stringify(r.events) + JSON.stringify(r.completion);
    expect(text).not.toContain('s3cr3t-value');
    expect(text).not.toContain('hunter22');
    expect(r.logs[0]).toBe('info: token is ***\tuser alice-admin');
    expect(r.logs[1]).toBe('warn: {"pw":"***","short":"abc"}');
    const a = r.events.find((e) => e.type === 'assertion');
    expect(a).toMatchObject({ message: 'expected "Bearer ***" to equal "Bearer nope"', actual: '"Bearer ***"' });
    expect(r.events.find((e) => e.type === 'step.start')).toMatchObject({ name: 'login with ***' });
    expect(r.completion.message).toBe('hello.lua:4: expected "Bearer ***" to equal "Bearer nope"');
  });
});
