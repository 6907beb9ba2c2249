import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { createLuaRunner } from './lua-runner.js';
import { runScript, type ScriptResult } from './testing/script-run.js';
import type { ScriptJob, ScriptRunner } from './runner.js';

const MiB = 1024 * 1024;
let runner: ScriptRunner;
let single: ScriptRunner;
let server: Server;
let base = '';
let n = 0;

beforeAll(async () => {
  runner = createLuaRunner({ workers: 2 });
  single = createLuaRunner({ workers: 1 });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (url.pathname === '/slow') {
        setTimeout(() => res.end('late'), 5000);
        return;
      }
      if (url.pathname === '/text') {
        res.setHeader('content-type', 'text/plain');
        res.end('plain text');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-served-by', 'test');
      res.statusCode = url.pathname === '/missing' ? 404 : 200;
      res.end(
        JSON.stringify({
          method: req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          tags: url.searchParams.getAll('tag'),
          auth: req.headers.authorization ?? null,
          contentType: req.headers['content-type'] ?? null,
          body,
          empty: [],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await runner?.close();
  await single?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

type Result = ScriptResult;

async function run(script: string, extra: Partial<ScriptJob> = {}, signal?: AbortSignal, on: ScriptRunner = runner): Promise<Result> {
  return runScript(on, { script, ...extra }, signal);
}

/** Runs a script that must pass; shows its logs and message when it does not. */
async function passes(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  const r = await run(script, extra);
  expect({ phase: r.completion.phase, message: r.completion.message, logs: r.logs }).toMatchObject({ phase: 'Passed' });
  return r;
}

describe('outcomes', () => {
  it('passes a clean script and logs print/log output, tables JSON-ish', async () => {
    const r = await passes('print("a", 1, true, nil)\nlog.warn({ b = { 1, 2 }, a = "x" })\nlog.debug(json.null)');
    expect(r.logs).toEqual(['info: a\t1\ttrue\tnil', 'warn: {"a":"x","b":[1,2]}', 'debug: null']);
  });

  it('fails on a script error with file:line', async () => {
    const r = await run('local x = 1\nlocal t = nil\nprint(t.field)');
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'ScriptError' });
    expect(r.completion.message).toMatch(/^hello\.lua:3: attempt to index a nil value/);
    expect(r.logs.at(-1)).toMatch(/^error: hello\.lua:3:/);
  });

  it('reports a syntax error as Error/ScriptInvalid with file:line', async () => {
    const r = await run('local a = 1\nif a then\n  print(a)\n');
    expect(r.completion).toMatchObject({ phase: 'Error', reason: 'ScriptInvalid' });
    expect(r.completion.message).toMatch(/^hello\.lua:4: 'end' expected/);
  });

  it('gives the script its env', async () => {
    await passes('assert(env.BASE_URL == "http://x", "env") assert(env.MISSING == nil)', { env: { BASE_URL: 'http://x' } });
  });
});

describe('assert', () => {
  it('records passed and failed assertions with the caller line, failing even when caught', async () => {
    const r = await run('assert(1 == 1, "one")\nlocal ok, err = pcall(assert, false, "caught")\nassert(not ok)\nprint(err)');
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: 'hello.lua:2: assertion failed: caught' });
    expect(r.logs).toContain('info: hello.lua:2: assertion failed: caught');
    const asserts = r.events.filter((e) => e.type === 'assertion');
    expect(asserts).toMatchObject([
      { passed: true, message: 'one', location: { file: 'hello.lua', line: 1 } },
      { passed: false, message: 'assertion failed: caught', location: { file: 'hello.lua', line: 2 } },
      { passed: true, location: { line: 3 } },
    ]);
    expect(r.completion.summary).toMatchObject({ assertionsPassed: 2, assertionsFailed: 1 });
  });

  it('raises like Lua assert and returns its arguments when true', async () => {
    const r = await run('local a, b = assert(5, "m")\nassert(a == 5 and b == "m")\nassert(false)');
    expect(r.completion.message).toBe('hello.lua:3: assertion failed');
  });

  it('records passed assertions only up to the cap but counts them all', async () => {
    const r = await passes('for i = 1, 100000 do assert(i > 0) end');
    expect(r.events.filter((e) => e.type === 'assertion')).toHaveLength(1000);
    expect(r.completion.summary.assertionsPassed).toBe(100000);
  });
});

describe('test and step', () => {
  it('nests steps in tests with seq, parentSeq and locations', async () => {
    const r = await passes('test("login", function()\n  step("open", function() end)\n  step("submit", function()\n    step("click", function() end)\n  end)\nend)');
    const starts = r.events.filter((e) => e.type === 'step.start');
    expect(starts).toMatchObject([
      { seq: 1, parentSeq: null, kind: 'test', name: 'login', location: { line: 1 } },
      { seq: 2, parentSeq: 1, kind: 'step', name: 'open', location: { line: 2 } },
      { seq: 3, parentSeq: 1, kind: 'step', name: 'submit', location: { line: 3 } },
      { seq: 4, parentSeq: 3, kind: 'step', name: 'click', location: { line: 4 } },
    ]);
    expect(r.completion.summary).toMatchObject({ stepsPassed: 4, stepsFailed: 0 });
  });

  it('a failed step aborts its test, the next test still runs, and logs go to their step', async () => {
    const r = await run(
      [
        'test("first", function()',
        '  step("a", function() error("boom") end)',
        '  step("never", function() end)',
        'end)',
        'test("second", function()',
        '  step("b", function() print("in b") end)',
        'end)',
      ].join('\n'),
    );
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'ScriptError', message: 'hello.lua:2: boom' });
    const names = r.events.flatMap((e) => (e.type === 'step.start' ? [e.name] : []));
    expect(names).toEqual(['first', 'a', 'second', 'b']);
    const ends = r.events.filter((e) => e.type === 'step.end');
    expect(ends).toMatchObject([
      { seq: 2, status: 'failed', message: 'hello.lua:2: boom', location: { line: 2 } },
      { seq: 1, status: 'failed', message: 'hello.lua:2: boom' },
      { seq: 4, status: 'passed' },
      { seq: 3, status: 'passed' },
    ]);
    expect(r.logs.filter((l) => l.startsWith('error:'))).toEqual(['error: step "a" failed: hello.lua:2: boom']);
    expect(r.events.find((e) => e.type === 'log' && e.message === 'in b')).toMatchObject({ stepSeq: 4 });
    expect(r.completion.summary).toMatchObject({ stepsPassed: 2, stepsFailed: 2 });
  });

  it('a failed top-level step ends the script', async () => {
    const r = await run('step("a", function() assert(false, "no") end)\nprint("after")');
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: 'hello.lua:1: assertion failed: no' });
    expect(r.logs).not.toContain('info: after');
  });

  it('says how to call test() wrongly', async () => {
    const r = await run('test("x")');
    expect(r.completion.message).toBe('hello.lua:1: test(name, fn): the second argument must be a function, got nil');
  });
});

describe('sandbox', () => {
  const forbidden: [string, string][] = [
    ['os.execute', 'os.execute("ls")'],
    ['os.exit', 'os.exit(1)'],
    ['os.remove', 'os.remove("/tmp/x")'],
    ['os.rename', 'os.rename("/tmp/x", "/tmp/y")'],
    ['os.tmpname', 'os.tmpname()'],
    ['os.getenv', 'os.getenv("HOME")'],
    ['io', 'io.open("/etc/passwd")'],
    ['loadfile', 'loadfile("/etc/passwd")'],
    ['dofile', 'dofile("/etc/passwd")'],
    ['debug', 'debug.getinfo(1)'],
    ['package.loadlib', 'package.loadlib("x", "y")'],
    ['package.cpath', 'return package.cpath'],
    ['string.dump', 'string.dump(print)'],
    ['binary load', 'load("\\27Lua", "x", "b")'],
    ['require of other modules', 'require("os")'],
    ['collectgarbage("stop")', 'collectgarbage("stop")'],
  ];
  it.each(forbidden)('%s is not available', async (_what, code) => {
    const r = await run(code);
    expect(r.completion.phase).toBe('Failed');
    expect(r.completion.message).toMatch(/^hello\.lua:1: /);
  });

  it('binary chunks cannot be loaded even as text mode default', async () => {
    const r = await passes('local f, err = load("\\27Lua...")\nassert(f == nil and err:find("binary"), err)');
    expect(r.completion.phase).toBe('Passed');
  });

  it('explains which modules exist', async () => {
    const r = await run('require("socket")');
    expect(r.completion.message).toMatch(
      /^hello\.lua:1: module 'socket' not found: no socket\.lua or socket\/init\.lua in the test's folder \(topas modules: .*json, log, net.*; bundled \.lua files: none\)$/,
    );
  });

  it('keeps os.time/clock/date, text load, and our modules', async () => {
    await passes(
      'assert(type(os.time()) == "number" and type(os.clock()) == "number" and type(os.date("%Y")) == "string")\n' +
        'assert(load("return 1 + 1")() == 2)\n' +
        'assert(require("json") == json and require("log") == log and require("net") == net)\n' +
        'assert(null == nil and Promise == nil and Error == nil)',
    );
  });
});

describe('json', () => {
  it('round-trips values including null, empty arrays and objects', async () => {
    await passes(
      [
        'local s = \'{"a":[1,2.5,null,"x"],"b":null,"c":{},"d":[],"e":true,"f":"q\\\\"\\\\n"}\'',
        'local v = json.decode(s)',
        'assert(v.a[3] == json.null and v.b == json.null and #v.a == 4 and v.a[2] == 2.5)',
        'assert(json.encode(v) == s, json.encode(v))',
        'assert(json.encode({}) == "{}" and json.encode(json.array()) == "[]" and json.encode({3, 2}) == "[3,2]")',
        'assert(json.decode("null") == json.null)',
        'assert(tostring(json.null) == "null")',
      ].join('\n'),
    );
  });

  it('says what could not be encoded or decoded, and where', async () => {
    let r = await run('\njson.encode({ f = print })');
    expect(r.completion.message).toBe('hello.lua:2: json.encode: cannot encode a function at $.f');
    r = await run('json.decode("{oops")');
    expect(r.completion.message).toMatch(/^hello\.lua:1: json\.decode: invalid JSON/);
  });
});

describe('net', () => {
  it('does GET with query and headers, and decodes JSON (the design-doc example)', async () => {
    await passes(
      [
        'local net = require("net")',
        'local resp = net.get(env.BASE .. "/api/users/alice", { headers = { Authorization = "Bearer t" }, query = { q = "a b", tag = { "x", "y" } } })',
        'assert(resp.code == 200)',
        'assert(resp.json.path == "/api/users/alice" and resp.json.method == "GET")',
        'assert(resp.json.query.q == "a b" and resp.json.tags[2] == "y")',
        'assert(resp.json.auth == "Bearer t")',
        'assert(resp.headers["x-served-by"] == "test" and type(resp.duration_ms) == "number")',
        'assert(resp.url:find("/api/users/alice", 1, true))',
        'assert(json.encode(resp.json.empty) == "[]")',
      ].join('\n'),
      { env: { BASE: base } },
    );
  });

  it('sends bodies with post/put/patch/delete/request', async () => {
    await passes(
      [
        'local r = net.post(env.BASE .. "/p", { name = "bob" })',
        'assert(r.json.method == "POST" and r.json.body == \'{"name":"bob"}\' and r.json.contentType == "application/json")',
        'r = net.put(env.BASE .. "/p", "raw", { headers = { ["content-type"] = "text/plain" } })',
        'assert(r.json.method == "PUT" and r.json.body == "raw" and r.json.contentType == "text/plain")',
        'r = net.patch(env.BASE .. "/p", nil, { json = { 1, 2 } })',
        'assert(r.json.body == "[1,2]")',
        'assert(net.delete(env.BASE .. "/p").json.method == "DELETE")',
        'r = net.request{ method = "post", url = env.BASE .. "/r", json = { ok = true }, query = { a = 1 } }',
        'assert(r.json.method == "POST" and r.json.query.a == "1" and r.json.body == \'{"ok":true}\')',
        'r = net.get(env.BASE .. "/missing")',
        'assert(r.code == 404)',
        'r = net.get(env.BASE .. "/text")',
        'assert(r.body == "plain text" and r.json == nil)',
      ].join('\n'),
      { env: { BASE: base } },
    );
  });

  it('a refused connection is an error naming the call, URL and line', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await run(`\n\nlocal r = net.get("http://127.0.0.1:${port}/x")`);
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'ScriptError' });
    expect(r.completion.message).toBe(`net.get http://127.0.0.1:${port}/x: connection refused (hello.lua:3)`);
  });

  it('honours a request timeout', async () => {
    const r = await run('local ok, err = pcall(net.get, env.BASE .. "/slow", { timeout = "200ms" })\nassert(not ok)\nprint(err)', {
      env: { BASE: base },
    });
    expect(r.logs[0]).toBe(`info: net.get ${base}/slow: timed out after 200ms (hello.lua:1)`);
    expect(r.ms).toBeLessThan(2000);
  });
});

describe('sleep, timeouts, cancel, memory', () => {
  it('sleep does not block other runs in the same worker', async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([run('sleep(400)', {}, undefined, single), run('sleep("400ms")', {}, undefined, single)]);
    expect([a.completion.phase, b.completion.phase]).toEqual(['Passed', 'Passed']);
    expect(Date.now() - started).toBeLessThan(750);
  });

  it('sleep works inside coroutines', async () => {
    await passes('local co = coroutine.wrap(function(a) sleep(10) coroutine.yield(a + 1) return "done" end)\nassert(co(1) == 2)\nassert(co() == "done")');
  });

  it.each([
    ['a plain infinite loop', 'while true do end'],
    ['an infinite loop in pcall', 'pcall(function() while true do end end)\nprint("escaped")'],
    ['pcall in an infinite loop', 'while true do pcall(function() while true do end end) end'],
    ['a long sleep', 'sleep(60000)'],
  ])('times out %s within timeout + 1 s; the pool keeps working', async (_what, script) => {
    const r = await run(script, { timeoutMs: 500 }, undefined, single);
    expect(r.completion).toMatchObject({ phase: 'TimedOut', reason: 'Timeout', message: 'the run exceeded its timeout of 500ms' });
    expect(r.logs).not.toContain('info: escaped');
    expect(r.ms).toBeLessThan(1500);
    expect((await run('assert(true)', {}, undefined, single)).completion.phase).toBe('Passed');
  });

  it('cancels mid-sleep and mid-fetch', async () => {
    for (const script of ['sleep(30000)', 'net.get(env.BASE .. "/slow")']) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const r = await run(`print("start")\n${script}\nprint("after")`, { env: { BASE: base } }, controller.signal);
      expect(r.completion).toMatchObject({ phase: 'Cancelled', reason: 'Cancelled' });
      expect(r.logs).toEqual(['info: start']);
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it('cancels a script busy in Lua without ending the other runs of its worker', async () => {
    // The cancel message waits behind the spinning script in the worker's event loop;
    // the shared flag reaches it at the next VM checkpoint. With no flag (cancelSlots: 0)
    // only the hard kill stops it, and the sleeping run of the same worker goes down too.
    const flagless = createLuaRunner({ workers: 1, cancelSlots: 0 });
    try {
      for (const [pool, flagged] of [[single, true], [flagless, false]] as const) {
        let sleeping!: () => void;
        const asleep = new Promise<void>((resolve) => (sleeping = resolve));
        const events: RunEvent[] = [];
        const victim = pool.run({ runId: 'victim', fileName: 'victim.lua', files: {}, env: {}, timeoutMs: 10_000, memoryLimitBytes: 64 * MiB, script: 'print("sleeping")\nsleep(1500)\nprint("woke")' }, (e) => {
          events.push(e);
          if (e.type === 'log') sleeping();
        });
        await asleep;
        const controller = new AbortController();
        const hog = run('local n = 0\nwhile true do n = n + 1 end', { timeoutMs: 60_000 }, controller.signal, pool);
        controller.abort();
        const [h, v] = await Promise.all([hog, victim]);
        if (flagged) {
          expect(h.completion).toMatchObject({ phase: 'Cancelled', reason: 'Cancelled', message: 'the run was cancelled' });
          expect(v.phase).toBe('Passed');
          expect(events.flatMap((e) => (e.type === 'log' ? [e.message] : []))).toEqual(['sleeping', 'woke']);
        } else {
          expect(h.completion.message).toContain('its worker was terminated');
          expect(v).toMatchObject({ phase: 'Error', reason: 'RunnerCrashed' });
        }
      }
    } finally {
      await flagless.close();
    }
  });

  it('a memory bomb ends as Error/MemoryLimit, even inside pcall', async () => {
    const bomb = 'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 100) .. i end';
    for (const script of [bomb, `pcall(function() ${bomb} end)\nprint("survived")`]) {
      const r = await run(script, { memoryLimitBytes: 16 * MiB });
      expect(r.completion).toMatchObject({ phase: 'Error', reason: 'MemoryLimit' });
      expect(r.completion.message).toContain('more than 16 MiB');
      expect(r.logs).not.toContain('info: survived');
    }
  });

  it('new runs go to a worker that is not stuck in a script, so a hog takes no newcomers down', async () => {
    // Exponential pattern matching runs inside one C call, where no Lua hook can stop it.
    let hogEnded = false;
    const hog = run('local s = string.rep("a", 40)\nprint(s:find(string.rep("a*", 40) .. "b"))', { timeoutMs: 3000 }).then((r) => {
      hogEnded = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 1300)); // its worker has been silent for a while
    const quick = await Promise.all([1, 2, 3, 4].map((i) => run(`print(${i})`)));
    expect(quick.map((r) => r.completion.phase)).toEqual(['Passed', 'Passed', 'Passed', 'Passed']);
    expect(hogEnded).toBe(false); // they did not wait for the hog's worker to be replaced
    expect((await hog).completion).toMatchObject({ phase: 'TimedOut', reason: 'Timeout' });
  });

  it('a hard-killed worker takes its other runs down with a clear message, and is replaced', async () => {
    const victim = run('sleep(5000)', {}, undefined, single);
    await new Promise((r) => setTimeout(r, 100));
    // Exponential pattern matching runs inside one C call, where no Lua hook can stop it.
    const hog = 'local s = string.rep("a", 40)\nprint(s:find(string.rep("a*", 40) .. "b"))';
    const killer = await run(hog, { timeoutMs: 300 }, undefined, single);
    expect(killer.completion).toMatchObject({ phase: 'TimedOut', reason: 'Timeout' });
    expect(killer.ms).toBeLessThan(1300);
    const v = await victim;
    expect(v.completion).toMatchObject({ phase: 'Error', reason: 'RunnerCrashed' });
    expect(v.completion.message).toContain(`run ${killer.runId} (hello.lua) did not stop`);
    expect((await run('print("alive")', {}, undefined, single)).completion.phase).toBe('Passed');
  });
});
