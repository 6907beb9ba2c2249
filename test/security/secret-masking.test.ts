/**
 * Issue 9, hole 7 (masking): a secret leaves a run only as `***` — also when the script
 * turns it into base64 or URL-encoded text, when it is the password of a URL-shaped env
 * value of any name (`DB_URL=postgres://app:pw@host`), and when a shortened value cuts it
 * off. Real runs: Lua on the local executor, the PGlite store, the HTTP API in memory
 * (`app.request`), an echo server on 127.0.0.1. Whatever a run reports is read back where
 * a user would read it: the stored logs, steps and assertions, the run, the run list,
 * the SSE stream, and definitions.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Run } from '../../src/core/run.js';
import { createApp } from '../../src/server/app.js';
import { testClient, type TestClient } from '../../src/server/testing/test-client.js';
import { openTestPlatform, type TestPlatform } from '../../src/server/testing/test-platform.js';

/** Has `+`, `/` and `=` padding in base64, and `@`, space, `/`, `+`, `?`, `&`, `=` to URL-encode. */
const TOKEN = 'p@ss w0rd/+?&=>>~';
const DB_PASSWORD = 'db-s3cret-pw';
/** A long secret (a JWT-like token): a value shown cut to its first 200 characters must not show its start. */
const LONG_TOKEN = `eyJhbGciOiJIUzI1NiJ9.${'x7Qk'.repeat(70)}.sig`;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Strings that must appear nowhere a user can read: each secret as written and as a script encodes it. */
const FORBIDDEN = [
  TOKEN,
  b64(TOKEN),
  b64(TOKEN).replace(/=+$/, ''),
  b64url(TOKEN),
  encodeURIComponent(TOKEN),
  rfc3986(TOKEN),
  encodeURIComponent(TOKEN).replace(/%20/g, '+'),
  new URLSearchParams({ t: TOKEN }).toString().slice(2),
  b64(`bob:${TOKEN}`),
  // the part of base64("bob:" + TOKEN) that encodes the token's bytes 2 to 10 alone
  b64(`bob:${TOKEN}`).slice(8, 20),
  DB_PASSWORD,
  b64(DB_PASSWORD),
  b64(`app:${DB_PASSWORD}`),
  LONG_TOKEN.slice(0, 40),
];

let platform: TestPlatform;
/** The in-memory API, called with an admin token. */
let app: TestClient;
let echo: Server;
let echoUrl = '';

beforeAll(async () => {
  platform = await openTestPlatform();
  app = await testClient(createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), followPollMs: 20 }), platform.store);
  // answers with what it received: the request line and the body
  echo = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
  echo?.closeAllConnections();
  await new Promise((resolve) => echo?.close(resolve));
});

const ENV = () => ({
  API_TOKEN: TOKEN,
  LONG_TOKEN,
  DB_URL: `postgres://app:${DB_PASSWORD}@127.0.0.1:1/orders`,
  ECHO_URL: echoUrl,
});

/** Starts a run through the API and waits for its end. */
async function runScript(script: string, files?: Record<string, string>): Promise<Run> {
  const res = await app.request('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'masking', script, fileName: 'masking.lua', env: ENV(), ...(files ? { files } : {}) }),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as Run;
  await platform.waitForEnd(id, 20_000);
  return (await (await app.request(`/api/runs/${id}`)).json()) as Run;
}

/** Everything a user can read about a run: store rows, API answers, the SSE stream. */
async function everythingShown(runId: string): Promise<string> {
  const [logs, steps, assertions, stored] = await Promise.all([
    platform.store.getLogs(runId, 0, 1000),
    platform.store.getSteps(runId),
    platform.store.getAssertions(runId),
    platform.store.getRun(runId),
  ]);
  const texts = [
    JSON.stringify({ logs, steps, assertions, message: stored?.message }),
    await (await app.request(`/api/runs/${runId}`)).text(),
    await (await app.request(`/api/runs/${runId}/logs?limit=1000`)).text(),
    await (await app.request('/api/runs?limit=50')).text(),
    await (await app.request(`/api/runs/${runId}/logs?follow=true`)).text(),
  ];
  return texts.join('\n');
}

function expectNoSecret(text: string): void {
  for (const secret of FORBIDDEN) expect(text, `shows ${JSON.stringify(secret)}`).not.toContain(secret);
}

describe('secrets in what a run reports', () => {
  it('hides a secret the script prints as base64 (standard, URL-safe, Basic auth) or URL-encoded', async () => {
    const run = await runScript(`
local t = env.API_TOKEN
local function url_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
log.info("b64=" .. base64.encode(t))
log.info("b64url=" .. base64.encode(t):gsub("+", "-"):gsub("/", "_"):gsub("=", ""))
log.info("basic=Basic " .. base64.encode("bob:" .. t))
log.info("db basic=" .. base64.encode("app:" .. env.DB_URL:match("://app:([^@]+)@")))
log.info("encoded=" .. url_encode(t))
log.info("form=" .. url_encode(t):gsub("%%20", "+"))
step("login as " .. base64.encode(t), function()
  local res = net.request{ method = "POST", url = env.ECHO_URL .. "/login", query = { token = t }, form = { token = t } }
  log.info("echo: " .. res.body)
end)
`);
    expect(run.phase).toBe('Passed');
    const shown = await everythingShown(run.id);
    expectNoSecret(shown);
    // the lines are there, with the secret masked
    for (const line of ['b64=***', 'b64url=***', 'db basic=***', 'encoded=***', 'form=***', 'login as ***', 'echo: POST /login?token=*** token=***']) {
      expect(shown).toContain(line);
    }
    // base64("bob:" + token): what is left encodes "bob:" and at most the token's first two bytes
    expect(shown).toMatch(/basic=Basic Ym9iOn[A-Za-z0-9+/]{0,2}\*\*\*/);
  });

  it('hides the password of a URL-shaped env value of any name in a failing expect, a db error and the API env', async () => {
    const run = await runScript(`
test("orders database", function()
  local ok, err = pcall(db.connect, env.DB_URL)
  log.warn("connect: " .. tostring(err))
  expect(env.DB_URL).to_be("postgres://app:other@db/orders")
end)
test("orders config", function()
  expect({ url = env.DB_URL }).to_equal({ url = "postgres://app:other@db/orders" })
end)
`);
    expect(run.phase).toBe('Failed');
    expect(run.env.DB_URL).toBe('postgres://app:***@127.0.0.1:1/orders');
    const shown = await everythingShown(run.id);
    expectNoSecret(shown);
    const assertions = await platform.store.getAssertions(run.id);
    expect(assertions.map((a) => a.actual)).toContain('"postgres://app:***@127.0.0.1:1/orders"');
    expect(shown).toContain('"DB_URL":"postgres://app:***@127.0.0.1:1/orders"');
  });

  it('hides an encoded secret in error messages: a failed step, the run message, and a value cut short', async () => {
    const run = await runScript(`
step("call the API", function()
  expect(env.LONG_TOKEN).to_be("a short token")
end)
`);
    expect(run.phase).toBe('Failed');
    const assertions = await platform.store.getAssertions(run.id);
    expect(assertions[0]!.actual).toMatch(/^"?\*\*\*…$/);
    expectNoSecret(await everythingShown(run.id));

    const failed = await runScript(`
step("log in", function()
  error("login refused for Basic " .. base64.encode("bob:" .. env.API_TOKEN) .. " (token " .. base64.encode(env.API_TOKEN) .. ")")
end)
`);
    expect(failed.phase).toBe('Failed');
    expect(failed.message).toMatch(/login refused for Basic .*\*\*\*.* \(token \*\*\*\)/);
    expectNoSecret(await everythingShown(failed.id));
  });

  it('hides a secret in postman results (test names, failures, console output)', async () => {
    const collection = {
      info: { name: 'secrets', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      item: [
        {
          name: 'echo',
          request: { method: 'GET', url: '{{base}}/echo' },
          event: [
            {
              listen: 'test',
              script: {
                type: 'text/javascript',
                exec: [
                  'const token = pm.environment.get("token");',
                  'console.log("sending " + encodeURIComponent(token));',
                  'pm.test("token " + encodeURIComponent(token) + " accepted", () => pm.expect(encodeURIComponent(token)).to.equal("x"));',
                ],
              },
            },
          ],
        },
      ],
    };
    const run = await runScript(
      `
local postman = require("postman")
local passed, report = postman.run{
  collection = "api.json",
  environment = { values = { { key = "token", value = env.API_TOKEN }, { key = "base", value = env.ECHO_URL } } },
}
log.info(json.encode(report))
`,
      { 'api.json': JSON.stringify(collection) },
    );
    expect(run.phase).toBe('Failed');
    const shown = await everythingShown(run.id);
    expectNoSecret(shown);
    expect(shown).toContain('sending ***');
    expect(shown).toContain('token *** accepted');
  });
});

describe('secrets in definitions', () => {
  it('shows the password of a URL-shaped env value as *** and keeps it when the env is sent back', async () => {
    const env = { DATABASE_URL: `postgres://app:${DB_PASSWORD}@db/x`, AUTH: `Basic ${b64(`bob:${TOKEN}`)}`, API_TOKEN: TOKEN };
    const created = await app.request('/api/definitions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'masked-def', script: 'assert(env.DATABASE_URL:match(":([^:@]*)@") ~= "***", "runs with the real password")', env }),
    });
    expect(created.status).toBe(201);
    const shown = (await created.json()) as { id: string; env: Record<string, string> };
    expect(shown.env.DATABASE_URL).toBe('postgres://app:***@db/x');
    expect(shown.env.API_TOKEN).toBe('***');
    const listed = await (await app.request('/api/definitions')).text();
    expectNoSecret(JSON.stringify(shown) + listed);

    // saved back as shown: the stored values stay, and a run of it connects with the real password
    const saved = await app.request(`/api/definitions/${shown.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ env: shown.env }),
    });
    expect(saved.status).toBe(200);
    expect((await platform.store.getDefinition(shown.id))?.env).toEqual(env);
    const started = await app.request(`/api/definitions/${shown.id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ env: shown.env }),
    });
    expect(started.status).toBe(201);
    const run = await platform.waitForEnd(((await started.json()) as Run).id, 20_000);
    expect({ phase: run.phase, message: run.message }).toEqual({ phase: 'Passed', message: null });
  });
});
