import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { createLuaRunner } from './lua-runner.js';
import { runScript, type ScriptResult } from './testing/script-run.js';
import { testApp } from './testing/net-test-app.js';
import type { ScriptJob, ScriptRunner } from './runner.js';

/** Self-signed for CN=localhost / 127.0.0.1, made once with `openssl req -x509 -newkey rsa:2048 -nodes -days 3650`. */
const CERT = readFileSync(new URL('./testdata/localhost-cert.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('./testdata/localhost-key.pem', import.meta.url), 'utf8');

const MiB = 1024 * 1024;
let runner: ScriptRunner;
let server: Server;
let tls: HttpsServer;
let base = '';
let secure = '';
let n = 0;

beforeAll(async () => {
  runner = createLuaRunner({ workers: 1 });
  server = createServer(testApp);
  tls = createHttpsServer({ cert: CERT, key: KEY }, testApp);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  secure = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await runner?.close();
  server?.closeAllConnections();
  tls?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => tls?.close(r));
});

async function run(script: string, extra: Partial<ScriptJob> = {}): Promise<ScriptResult> {
  return runScript(runner, { script, fileName: 'test.lua', env: { BASE: base, SECURE: secure, CA: CERT }, ...extra });
}

async function passes(script: string): Promise<void> {
  const r = await run(script);
  expect(r.completion.phase, `${r.completion.message}\n${r.logs.join('\n')}`).toBe('Passed');
}

describe('redirects', () => {
  it('follows by default, returns the 3xx with manual, raises with error', async () => {
    await passes(`
local r = net.get(env.BASE .. "/redirect")
assert(r.code == 200 and r.json.path == "/echo" and r.json.query == "from=redirect", r.body)
assert(r.url == env.BASE .. "/echo?from=redirect", r.url)
assert(type(r.duration_ms) == "number" and r.duration_ms >= 0)

local m = net.get(env.BASE .. "/redirect", { redirect = "manual" })
assert(m.code == 302 and m.headers.location == "/echo?from=redirect" and m.json.moved == true)

local ok, err = pcall(net.get, env.BASE .. "/redirect", { redirect = "error" })
assert(not ok and err == "net.get " .. env.BASE .. '/redirect: redirected (302) to ' .. env.BASE .. '/echo?from=redirect while redirect = "error" (test.lua:10)', err)

-- 303 turns a POST into a GET without body; 307 keeps method and body
local p = net.post(env.BASE .. "/redirect-post", "data")
assert(p.json.method == "GET" and p.json.body == "")
local k = net.post(env.BASE .. "/redirect-307", "data")
assert(k.json.method == "POST" and k.json.body == "data")

ok, err = pcall(net.get, env.BASE .. "/loop")
assert(not ok and err:find("more than 20 redirects", 1, true), err)
ok, err = pcall(net.get, env.BASE, { redirect = "sometimes" })
assert(not ok and err:find('redirect must be "follow", "manual" or "error"', 1, true), err)
`);
  });
});

describe('TLS', () => {
  it('refuses a self-signed certificate by default, accepts it with insecure = true or ca = PEM', async () => {
    await passes(`
local ok, err = pcall(net.get, env.SECURE .. "/echo")
assert(not ok and err:find("net.get " .. env.SECURE .. "/echo: ", 1, true), err)
assert(err:find("self%-signed"), err)

local r = net.get(env.SECURE .. "/echo", { insecure = true, query = { a = 1 } })
assert(r.code == 200 and r.json.query == "a=1")
local c = net.post(env.SECURE .. "/echo", { x = 1 }, { ca = env.CA })
assert(c.code == 200 and c.json.body == '{"x":1}' and c.json.contentType == "application/json")
local d = net.get(env.SECURE .. "/redirect", { insecure = true })
assert(d.json.path == "/echo" and d.url == env.SECURE .. "/echo?from=redirect")
`);
  });
});

describe('bodies', () => {
  it('sends form tables urlencoded and raw strings as they are', async () => {
    await passes(`
local f = net.post(env.BASE .. "/echo", nil, { form = { user = "ann b", tags = { "x", "y&z" } } })
assert(f.json.contentType == "application/x-www-form-urlencoded", f.json.contentType)
assert(f.json.body == "tags=x&tags=y%26z&user=ann+b", f.json.body)

local raw = net.put(env.BASE .. "/echo", "  <xml a='1'/>\\n", { headers = { ["content-type"] = "application/xml" } })
assert(raw.json.body == "  <xml a='1'/>\\n" and raw.json.contentType == "application/xml")

local none = net.post(env.BASE .. "/echo", "plain")
assert(none.json.body == "plain" and none.json.contentType == "text/plain;charset=UTF-8", tostring(none.json.contentType))

local ok, err = pcall(net.post, env.BASE .. "/echo", "x", { form = { a = 1 } })
assert(not ok and err:find("either form or body/json", 1, true), err)
`);
  });
});

describe('cookies', () => {
  it('keeps a cookie jar per run when cookies = true', async () => {
    await passes(`
-- the login sets a cookie on a redirect; the jar sends it on the next hop
local me = net.post(env.BASE .. "/login", nil, { cookies = true })
assert(me.code == 200 and me.json.session == "s3cret", me.body)
local again = net.get(env.BASE .. "/me", { cookies = true })
assert(again.code == 200)
-- without cookies = true nothing is sent
assert(net.get(env.BASE .. "/me").code == 401)
local jar = net.cookies()
assert(jar["127.0.0.1"].session == "s3cret" and jar["127.0.0.1"].theme == "dark")
assert(net.cookies(env.BASE .. "/me").theme == "dark")
assert(net.cookies("127.0.0.1").session == "s3cret")
-- a cookie set to expire is dropped
net.get(env.BASE .. "/logout", { cookies = true })
assert(net.cookies("127.0.0.1").session == nil)
assert(net.get(env.BASE .. "/me", { cookies = true }).code == 401)
`);
    // a new run starts with an empty jar
    await passes('assert(next(net.cookies()) == nil)\nassert(net.get(env.BASE .. "/me", { cookies = true }).code == 401)');
  });
});
