import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { startTestGrpcServer, testProtoFiles, type TestGrpcServer } from './testing/grpc-test-server.js';
import { createLuaRunner } from './lua-runner.js';
import { runScript, type ScriptResult } from './testing/script-run.js';
import type { ScriptJob, ScriptRunner } from './runner.js';

const MiB = 1024 * 1024;
let runner: ScriptRunner;
let reflecting: TestGrpcServer;
let plain: TestGrpcServer;
let n = 0;

beforeAll(async () => {
  // One worker: the schema cache lives per worker, and the cache test counts on it.
  runner = createLuaRunner({ workers: 1 });
  reflecting = await startTestGrpcServer({ reflection: true });
  plain = await startTestGrpcServer({ reflection: false });
});

afterAll(async () => {
  await runner?.close();
  await reflecting?.close();
  await plain?.close();
});

type Result = ScriptResult;

async function run(script: string, extra: Partial<ScriptJob> = {}, signal?: AbortSignal): Promise<Result> {
  return runScript(runner, { script, fileName: 'test.lua', env: { TARGET: reflecting.target, PLAIN: plain.target }, ...extra }, signal);
}

async function passes(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  const r = await run(script, extra);
  expect(r.completion.phase, `${r.completion.message}\n${r.logs.join('\n')}`).toBe('Passed');
  return r;
}

describe('net.grpc by reflection', () => {
  it('makes the design-document call, and caches the schema per target', async () => {
    const before = reflecting.reflectionCalls();
    // the design document's example, with the test server's address
    await passes(`
local net = require("net")
local g_resp = net.grpc(env.TARGET, "topas.EchoService/Echo", { message = "hello" })
assert(g_resp.message == "hello")
assert(g_resp._status.code == 0 and g_resp._status.code_name == "OK")
`);
    expect(reflecting.reflectionCalls()).toBe(before + 1);
    // another run on the same worker: the schema is cached, reflection is not asked again
    const r = await passes(`
local t0 = os.clock()
for i = 1, 20 do
  local resp = net.grpc(env.TARGET, "topas.EchoService/Echo", { message = "m" .. i })
  assert(resp.message == "m" .. i)
end
`);
    expect(reflecting.reflectionCalls()).toBe(before + 1);
    expect(r.ms).toBeLessThan(5000);
  });

  it('maps proto3 JSON both ways: maps, int64, enums, Timestamp, bytes, nested and repeated messages', async () => {
    await passes(`
local u = net.grpc(env.TARGET, "topas.EchoService/Mirror", {
  id = "u1",
  displayName = "Ann",
  kind = "GUEST",
  balance = "9007199254740993",
  labels = { team = "core", tier = "1" },
  createdAt = "2024-05-06T07:08:09.123Z",
  address = { city = "Oslo", zip = "0150" },
  tags = { "a", "b" },
  avatar = "aGVsbG8=",
  places = { home = { city = "Bergen" } },
  history = {},
})
assert(u.id == "u1", "id")
assert(u.displayName == "Ann", "json name")
assert(u.kind == "ADMIN", "enum by name: " .. tostring(u.kind))
assert(u.balance == "9007199254740994", "int64 as string: " .. tostring(u.balance))
assert(u.labels.team == "core" and u.labels.tier == "1", "map")
assert(u.createdAt == "2024-05-06T07:08:09.123Z", "timestamp: " .. tostring(u.createdAt))
assert(u.address.city == "Oslo" and u.address.zip == "0150", "nested")
assert(#u.tags == 3 and u.tags[3] == "mirrored", "repeated")
assert(u.avatar == "aGVsbG8=", "bytes as base64")
assert(u.places.home.city == "Bergen" and u.places.home.zip == "", "map of messages, defaults filled")
assert(#u.history == 0, "empty repeated")
assert(u.active == false, "proto3 default bool")
-- snake_case names are accepted on the way in
local v = net.grpc(env.TARGET, "topas.EchoService/Mirror", { display_name = "Bo", balance = 41 })
assert(v.displayName == "Bo" and v.balance == "42")
assert(v.address == nil and v.createdAt == nil, "unset messages are nil")
assert(json.encode(v.history) == "[]" and json.encode(v.labels) == "{}")
`);
  });

  it('sends metadata and returns response headers and trailers', async () => {
    await passes(`
local resp = net.grpc(env.TARGET, "topas.EchoService/Echo", { message = "m" }, {
  metadata = { ["x-request-id"] = "req-7", ["x-blob-bin"] = "AAEC" },
})
assert(resp._metadata["x-echo"] == "req-7", "header")
assert(resp._metadata["x-trailer"] == "done", "trailer")
assert(resp._metadata["x-blob-bin"] == "AAEC", "binary header as base64")
`);
  });

  it('raises a non-OK status with code name, message and line; raw returns it', async () => {
    const r = await run(`local net = require("net")
local ok = net.grpc(env.TARGET, "topas.EchoService/Echo", { message = "x" })

local resp = net.grpc(env.TARGET, "topas.EchoService/Fail", { message = "x" })
`);
    expect(r.completion.phase).toBe('Failed');
    expect(r.completion.message).toBe(`net.grpc ${reflecting.target} topas.EchoService/Fail: NOT_FOUND: no such user (test.lua:4)`);
    await passes(`
local s = net.grpc(env.TARGET, "topas.EchoService/Fail", {}, { raw = true })
assert(s.code == 5 and s.code_name == "NOT_FOUND" and s.message == "no such user")
assert(s.metadata["x-reason"] == "gone")
local ok, err = pcall(net.grpc, env.TARGET, "topas.EchoService/Nope", {})
assert(not ok and err:find("topas.EchoService has no method \\"Nope\\"", 1, true), err)
ok, err = pcall(net.grpc, env.TARGET, "topas.Missing/Echo", {})
assert(not ok and err:find("topas.Missing", 1, true), err)
ok, err = pcall(net.grpc, env.TARGET, "topas.EchoService/Echo", { nope = 1 })
assert(not ok and err:find("not a valid topas.EchoRequest", 1, true), err)
ok, err = pcall(net.grpc, "127.0.0.1:1", "topas.EchoService/Echo", {})
assert(not ok and err:find("net.grpc 127.0.0.1:1 topas.EchoService/Echo: reflection failed: UNAVAILABLE", 1, true), err)
`);
  });

  it('returns the messages of a server-streaming method as a list', async () => {
    await passes(`
local list = net.grpc(env.TARGET, "topas.EchoService/Count", { message = "tick", ["repeat"] = 3 })
assert(#list == 3, #list)
assert(list[1].message == "tick #1" and list[3].message == "tick #3" and list[3].index == 3)
assert(list._status.code_name == "OK")
local none = net.grpc(env.TARGET, "topas.EchoService/Count", { message = "x" })
assert(#none == 0 and json.encode(none._metadata) ~= nil)
`);
  });

  it('sends a list of messages to client- and bidi-streaming methods', async () => {
    await passes(`
local joined = net.grpc(env.TARGET, "topas.EchoService/Join", { { message = "a" }, { message = "b" }, { message = "c" } })
assert(joined.message == "a b c" and joined.index == 3, json.encode(joined))
assert(net.grpc(env.TARGET, "topas.EchoService/Join", {}).index == 0)
local replies = net.grpc(env.TARGET, "topas.EchoService/Chat", { { message = "hi" }, { message = "yo" } })
assert(#replies == 2 and replies[1].message == "hi!" and replies[2].index == 2, json.encode(replies))
assert(replies._status.code_name == "OK")
`);
    const wrong = await run('net.grpc(env.TARGET, "topas.EchoService/Join", { message = "not a list" })');
    expect(wrong.completion.message).toContain('topas.EchoService/Join is client-streaming: pass a list of topas.EchoRequest messages (test.lua:1)');
    const bad = await run('net.grpc(env.TARGET, "topas.EchoService/Chat", { { message = "ok" }, { ["repeat"] = "many" } })');
    expect(bad.completion.message).toContain('message 2 is not a valid topas.EchoRequest');
  });

  it('says when the server offers no reflection', async () => {
    const r = await run('net.grpc(env.PLAIN, "topas.EchoService/Echo", { message = "x" })');
    expect(r.completion.message).toBe(
      `net.grpc ${plain.target} topas.EchoService/Echo: the server does not offer reflection (grpc.reflection.v1 / v1alpha); pass opts.proto = "file.proto" (test.lua:1)`,
    );
  });

  it('a call times out with opts.timeout as DEADLINE_EXCEEDED', async () => {
    const r = await run('net.grpc(env.TARGET, "topas.EchoService/Hang", {}, { timeout = "200ms" })');
    expect(r.completion.message).toMatch(/: DEADLINE_EXCEEDED: .*\(timeout 200 ?ms\) \(test\.lua:1\)$/);
  });
});

describe('net.grpc with opts.proto', () => {
  it('loads .proto files (and their imports) from the run files', async () => {
    await passes(
      `
local resp = net.grpc(env.PLAIN, "topas.EchoService/Echo", { message = "hi" }, { proto = "protos/echo.proto" })
assert(resp.message == "hi")
local u = net.grpc(env.PLAIN, "topas.EchoService/Mirror", { kind = "GUEST", balance = "1" }, { proto = { "./protos/echo.proto" } })
assert(u.kind == "ADMIN" and u.balance == "2")
local ok, err = pcall(net.grpc, env.PLAIN, "topas.EchoService/Echo", {}, { proto = "missing.proto" })
assert(not ok and err:find('opts.proto: "missing.proto" is not among the test\\'s files', 1, true), err)
`,
      { files: testProtoFiles() },
    );
  });

  it('names a missing import', async () => {
    const files = testProtoFiles();
    delete files['protos/common/kinds.proto'];
    const r = await run('net.grpc(env.PLAIN, "topas.EchoService/Echo", {}, { proto = "protos/echo.proto" })', { files });
    expect(r.completion.message).toContain('opts.proto: protos/echo.proto imports "common/kinds.proto", which is not among the test\'s files (test.lua:1)');
  });
});

describe('stopping a run during a call', () => {
  it('a timeout ends the run TimedOut within 1 s while a call hangs, and cancels the call', async () => {
    const before = reflecting.cancelledCalls();
    const r = await run('net.grpc(env.TARGET, "topas.EchoService/Hang", {})', { timeoutMs: 500 });
    expect(r.completion.phase).toBe('TimedOut');
    expect(r.ms).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reflecting.cancelledCalls()).toBe(before + 1);
  });

  it('a cancel ends the run Cancelled within 1 s', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await run('net.grpc(env.TARGET, "topas.EchoService/Hang", {})', {}, ac.signal);
    expect(r.completion.phase).toBe('Cancelled');
    expect(r.ms).toBeLessThan(1300);
  });
});
