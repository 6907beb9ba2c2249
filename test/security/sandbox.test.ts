/**
 * Issue 9, "the Lua sandbox escapes that already fail must keep failing": what the
 * sandbox claims (docs/lua-api.md, src/runner/modules/sandbox.ts) is tried the way an
 * attacker would. Each attempt ends the run Failed (or Error for resource limits) with
 * a Lua error naming the script's line — never a crash of the host — and the worker
 * still runs the next script.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLuaRunner } from '../../src/runner/lua-runner.js';
import type { ScriptRunner } from '../../src/runner/runner.js';
import { runScript } from '../../src/runner/testing/script-run.js';

let runner: ScriptRunner;

beforeAll(() => {
  runner = createLuaRunner({ workers: 1 });
});

afterAll(async () => {
  await runner?.close();
});

const run = (script: string, memoryLimitBytes = 64 << 20) => runScript(runner, { script, timeoutMs: 30_000, memoryLimitBytes });

const NOT_FOUND = "not found: module names are like 'helpers' or 'lib.http' and resolve inside the test's folder only";

/** [what, script, the run's message] — each a Failed run. */
const escapes: [string, string, string | RegExp][] = [
  ['os.execute', 'os.execute("id")', "hello.lua:1: attempt to call a nil value (field 'execute')"],
  ['os.exit', 'os.exit(0)', "hello.lua:1: attempt to call a nil value (field 'exit')"],
  ['os.getenv (the server environment)', 'os.getenv("HOME")', "hello.lua:1: attempt to call a nil value (field 'getenv')"],
  ['os.remove', 'os.remove("/tmp/x")', "hello.lua:1: attempt to call a nil value (field 'remove')"],
  ['io.open', 'io.open("/etc/passwd")', "hello.lua:1: attempt to index a nil value (global 'io')"],
  ['io.popen', 'io.popen("id")', "hello.lua:1: attempt to index a nil value (global 'io')"],
  ['string.dump', 'load(string.dump(function() end), "x", "b")', "hello.lua:1: attempt to call a nil value (field 'dump')"],
  ['string.dump through the string metatable', 'getmetatable("").__index.dump(print)', "hello.lua:1: attempt to call a nil value (field 'dump')"],
  ['load of bytecode, mode "b"', 'load("\\27LuaT\\0\\25\\147\\13\\n\\26\\n", "x", "b")', 'hello.lua:1: load: only text chunks are allowed (mode "t"), binary chunks are disabled'],
  ['load of bytecode, mode "bt"', 'load("\\27LuaT\\0", "x", "bt")', 'hello.lua:1: load: only text chunks are allowed (mode "t"), binary chunks are disabled'],
  ['load of bytecode, default mode', 'local f, e = load("\\27LuaT\\0")\nerror(e)', "hello.lua:2: attempt to load a binary chunk (mode is 't')"],
  ['debug.getregistry', 'debug.getregistry()', "hello.lua:1: attempt to index a nil value (global 'debug')"],
  ['debug.sethook (to escape the timeout)', 'debug.sethook()', "hello.lua:1: attempt to index a nil value (global 'debug')"],
  ['debug through _ENV', 'local d = _ENV.debug\nd.getinfo(1)', "hello.lua:2: attempt to index a nil value (local 'd')"],
  ['require("debug")', 'require("debug")', /^hello\.lua:1: module 'debug' not found: no debug\.lua or debug\/init\.lua in the test's folder/],
  ['require("io")', 'require("io")', /^hello\.lua:1: module 'io' not found/],
  ['require of a path outside the folder', 'require("../../etc/passwd")', new RegExp(`^hello\\.lua:1: module '\\.\\./\\.\\./etc/passwd' ${NOT_FOUND.replace(/[.()']/g, '\\$&')}`)],
  ['require with a traversal in the middle', 'require("lib/../../x")', /^hello\.lua:1: module 'lib\/\.\.\/\.\.\/x' not found: module names are like/],
  ['package.loadlib', 'package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")', "hello.lua:1: attempt to index a nil value (global 'package')"],
  ['dofile', 'dofile("/etc/passwd")', "hello.lua:1: attempt to call a nil value (global 'dofile')"],
  ['loadfile', 'loadfile("/etc/passwd")', "hello.lua:1: attempt to call a nil value (global 'loadfile')"],
  ['collectgarbage("stop")', 'collectgarbage("stop")', "hello.lua:1: collectgarbage: option 'stop' is not allowed"],
  ['collectgarbage("generational")', 'collectgarbage("generational")', "hello.lua:1: collectgarbage: option 'generational' is not allowed"],
  ['collectgarbage("incremental", 0, 0)', 'collectgarbage("incremental", 0, 0)', "hello.lua:1: collectgarbage: option 'incremental' is not allowed"],
  [
    'a __gc finalizer (Lua runs it with hooks off: an endless one could not be stopped)',
    'setmetatable({}, { __gc = function() while true do end end })',
    'hello.lua:1: setmetatable: __gc finalizers are not available to scripts (nothing could stop one that runs too long); use a <close> variable or defer()',
  ],
  ['a protected metatable changed', 'setmetatable(setmetatable({}, { __metatable = false }), {})', 'hello.lua:1: cannot change a protected metatable'],
  ['the prelude internals (T, host) as globals', 'assert(rawget(_G, "T") or rawget(_G, "host") or rawget(_G, "io"), "nothing to reach")', 'hello.lua:1: assertion failed: nothing to reach'],
  ['a forbidden call inside a coroutine', 'coroutine.wrap(function() os.execute("id") end)()', "hello.lua:1: attempt to call a nil value (field 'execute')"],
  ['unbounded recursion', 'local function f() return 1 + f() end\nf()', 'hello.lua:1: stack overflow'],
  ['a huge string.rep', 'string.rep("x", 2^40)', 'hello.lua:1: resulting string too large'],
  ['a bad string.format width', 'string.format("%99999d", 1)', "hello.lua:1: invalid conversion specification: '%99999d'"],
  ['an invalid os.date conversion', 'os.date("%Ez")', "hello.lua:1: bad argument #1 to 'date' (invalid conversion specifier '%Ez')"],
  ['a pattern with too many captures', 'string.find("aaaa", string.rep("(", 300))', 'hello.lua:1: too many captures'],
  ['an error object whose __tostring raises', 'error(setmetatable({}, { __tostring = function() error("boom") end }))', 'hello.lua:1: boom'],
];

describe('the Lua sandbox', () => {
  it.each(escapes)('%s fails with a Lua error at the script line', async (_what, script, message) => {
    const r = await run(script);
    expect(r.completion.phase).toBe('Failed');
    if (typeof message === 'string') expect(r.completion.message).toBe(message);
    else expect(r.completion.message).toMatch(message);
  });

  it('exposes no host (JavaScript) object: no userdata or thread anywhere under _G or the string metatable', async () => {
    const r = await run(`
local seen, found = {}, {}
local function walk(v, path, depth)
  local t = type(v)
  if t == "userdata" or t == "thread" then found[#found + 1] = path .. " (" .. t .. ")" end
  if t ~= "table" or seen[v] or depth > 8 then return end
  seen[v] = true
  for k, x in pairs(v) do walk(x, path .. "." .. tostring(k), depth + 1) end
  local mt = getmetatable(v)
  if mt ~= nil then walk(mt, path .. "<metatable>", depth + 1) end
end
walk(_G, "_G", 0)
walk(getmetatable(""), "<string metatable>", 0)
assert(#found == 0, table.concat(found, ", "))
`);
    expect(r.completion).toMatchObject({ phase: 'Passed' });
  });

  it('errors raised by module functions are strings, not host objects', async () => {
    const r = await run(`
for i, f in ipairs({
  function() return json.decode("{bad") end,
  function() return net.get(123) end,
  function() return net.get("http://127.0.0.1:1/", { timeout = "1s" }) end,
  function() return db.connect(42) end,
  function() return sut.status() end,
  function() return base64.decode("@@@") end,
  function() return yaml.decode(": : :") end,
}) do
  local ok, e = pcall(f)
  assert(not ok and type(e) == "string", i .. ": " .. type(e))
end
`);
    expect(r.completion).toMatchObject({ phase: 'Passed' });
  });

  it('a script that eats memory ends Error (MemoryLimit), and the worker runs the next script', async () => {
    const r = await run('local t = {}\nfor i = 1, 1e8 do t[i] = string.rep("x", 64) .. i end', 16 << 20);
    expect(r.completion).toMatchObject({ phase: 'Error', reason: 'MemoryLimit' });
    const after = await run('assert(1 + 1 == 2)');
    expect(after.completion).toMatchObject({ phase: 'Passed' });
  });
});
