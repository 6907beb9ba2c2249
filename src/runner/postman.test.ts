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
let server: Server;
let base = '';
let n = 0;

/** A v2.1 collection: a folder "users" (2 requests) and a request at the top (health). */
function exampleCollection(): Record<string, unknown> {
  const test = (lines: string[]) => [{ listen: 'test', script: { type: 'text/javascript', exec: lines } }];
  return {
    info: { name: 'Test API', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    item: [
      {
        name: 'health',
        request: { method: 'GET', url: '{{baseUrl}}/healthz' },
        event: test(['pm.test("status is 200", () => pm.response.to.have.status(200));']),
      },
      {
        name: 'users',
        item: [
          {
            name: 'list users',
            request: { method: 'GET', url: '{{baseUrl}}/users?role={{role}}' },
            event: test([
              'pm.test("status is 200", () => pm.response.to.have.status(200));',
              'pm.test("has alice", () => pm.expect(pm.response.json().users).to.include("alice"));',
            ]),
          },
          {
            name: 'create user',
            request: {
              method: 'POST',
              url: '{{baseUrl}}/users',
              header: [{ key: 'content-type', value: 'application/json' }],
              body: { mode: 'raw', raw: '{"name":"bob"}' },
            },
            event: test(['pm.test("created", () => pm.response.to.have.status(201));']),
          },
        ],
      },
      {
        name: 'slow',
        request: { method: 'GET', url: '{{baseUrl}}/slow' },
      },
    ],
  };
}

beforeAll(async () => {
  runner = createLuaRunner({ workers: 1 });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/slow') {
        setTimeout(() => res.end('{}'), 10_000).unref();
        return;
      }
      if (url.pathname === '/healthz') return res.end('{"ok":true}');
      if (url.pathname === '/users' && req.method === 'GET') {
        return res.end(JSON.stringify({ users: url.searchParams.get('role') === 'admin' ? ['alice'] : ['bob'] }));
      }
      if (url.pathname === '/users' && req.method === 'POST') {
        res.statusCode = JSON.parse(body).name === 'bob' ? 500 : 201; // bob: a server bug
        return res.end(body);
      }
      res.statusCode = 404;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await runner?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

type Result = ScriptResult;

function files(): Record<string, string> {
  return {
    'postman/api.postman_collection.json': JSON.stringify(exampleCollection()),
    'postman/local.postman_environment.json': JSON.stringify({
      name: 'local',
      values: [
        { key: 'baseUrl', value: base, enabled: true },
        { key: 'role', value: 'admin', enabled: true },
      ],
    }),
  };
}

async function run(script: string, extra: Partial<ScriptJob> = {}, signal?: AbortSignal): Promise<Result> {
  return runScript(runner, { script, fileName: 'api.lua', files: files(), env: { BASE_URL: base }, ...extra }, signal);
}

const steps = (events: RunEvent[]) => {
  const names = new Map<number, string>();
  const out: string[] = [];
  for (const e of events) {
    if (e.type === 'step.start') names.set(e.seq, e.name);
    if (e.type === 'step.end') out.push(`${names.get(e.seq)}: ${e.status}`);
  }
  return out;
};

describe('postman.run', () => {
  it('runs a passing folder: requests are steps, tests are assertions, report counts them', async () => {
    const r = await run(`
local postman = require("postman")
local passed, report = postman.run{
  collection = "postman/api.postman_collection.json",
  environment = "./postman/local.postman_environment.json",
  folder = "users",
}
`.replace('folder = "users"', 'folder = "health"') + `
assert(passed == true, "passed")
assert(report.requests == 1 and report.failed == 0, json.encode(report))
assert(#report.assertions == 1 and report.assertions[1].passed == true)
assert(report.assertions[1].request == "health" and report.assertions[1].name == "status is 200")
assert(#report.failures == 0)
assert(type(report.duration_ms) == "number")
`);
    expect({ phase: r.completion.phase, message: r.completion.message }).toEqual({ phase: 'Passed', message: null });
    expect(steps(r.events)).toEqual(['health: passed']);
    expect(r.events.find((e) => e.type === 'assertion')).toMatchObject({
      passed: true,
      message: 'postman: health › status is 200',
      location: { file: 'api.lua', line: 3 },
    });
    expect(r.logs.some((l) => /^info: GET http:\/\/127\.0\.0\.1:\d+\/healthz → 200 OK \(\d+ ms\)$/.test(l))).toBe(true);
  });

  it('a failing Postman test is a failed assertion and a failed step; the script sees passed=false', async () => {
    const r = await run(`
test("api", function()
  local passed, report = postman.run{ collection = "postman/api.postman_collection.json", environment = "postman/local.postman_environment.json", folder = "users" }
  assert(passed == false)
  assert(report.requests == 2 and report.failed == 1, json.encode(report))
  assert(#report.failures == 1 and report.failures[1].request == "create user", json.encode(report.failures))
  log.info("failures: " .. #report.failures)
end)
`);
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed' });
    expect(r.completion.message).toBe('api.lua:3: postman: create user › created: expected response to have status code 201 but got 500');
    expect(steps(r.events)).toEqual(['list users: passed', 'create user: failed', 'api: failed']);
    const failed = r.events.filter((e) => e.type === 'assertion' && !e.passed);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ message: 'postman: create user › created: expected response to have status code 201 but got 500', location: { line: 3 } });
    expect(r.logs).toContain('info: failures: 1');
    expect(r.logs.some((l) => l.includes('POST') && l.includes('→ 500'))).toBe(true);
    // request steps are children of the Lua test
    const starts = r.events.filter((e) => e.type === 'step.start') as Extract<RunEvent, { type: 'step.start' }>[];
    expect(starts.map((s) => [s.name, s.parentSeq])).toEqual([['api', null], ['list users', 1], ['create user', 1]]);
  });

  it('takes inline tables (collection, environment as a map, globals, iterationData)', async () => {
    const coll = JSON.stringify(exampleCollection().item && { info: { name: 'inline' }, item: [(exampleCollection().item as unknown[])[0]] });
    const r = await run(`
local coll = json.decode(${JSON.stringify(coll)})
coll.item[1].event[1].script.exec = { 'pm.test("g", () => pm.expect(pm.globals.get("who")).to.equal("me"));', 'pm.test("d", () => pm.expect(pm.iterationData.get("n")).to.be.a("number"));' }
local passed, report = postman.run{ collection = coll, environment = { baseUrl = env.BASE_URL }, globals = { who = "me" }, iterationData = { { n = 1 }, { n = 2 } } }
assert(passed, json.encode(report))
assert(report.requests == 2 and #report.assertions == 4, json.encode(report))
`);
    expect({ phase: r.completion.phase, message: r.completion.message }).toEqual({ phase: 'Passed', message: null });
    expect(steps(r.events)).toEqual(['health [iteration 1/2]: passed', 'health [iteration 2/2]: passed']);
  });

  it('names a missing file and lists the available ones; an unknown folder is an error', async () => {
    const r = await run(`\npostman.run{ collection = "postman/nope.json" }`);
    expect(r.completion.message).toBe(
      'postman.run: collection file "postman/nope.json" not found (files next to the script: postman/api.postman_collection.json, postman/local.postman_environment.json) (api.lua:2)',
    );
    const f = await run(`postman.run{ collection = "postman/api.postman_collection.json", folder = "nope" }`);
    expect(f.completion.message).toBe('postman.run: folder or request "nope" not found in the collection "Test API" (api.lua:1)');
  });

  it('a connection error fails the request step', async () => {
    const r = await run(`local passed, report = postman.run{ collection = "postman/api.postman_collection.json", environment = { baseUrl = "http://127.0.0.1:1" }, folder = "health" }
assert(passed == false and report.failed == 1, json.encode(report))`);
    expect(r.completion.phase).toBe('Failed');
    expect(steps(r.events)).toEqual(['health: failed']);
    expect(r.completion.message).toMatch(/^api\.lua:1: postman: health › status is 200: /);
    expect(r.logs.some((l) => /^error: GET http:\/\/127\.0\.0\.1:1\/healthz: connect ECONNREFUSED/.test(l))).toBe(true);
  });

  it('a per-request timeout fails the request', async () => {
    const r = await run(`local passed, report = postman.run{ collection = "postman/api.postman_collection.json", environment = "postman/local.postman_environment.json", folder = "slow", timeout = 300 }
assert(passed == false, json.encode(report))
assert(report.failures[1].message:find("ESOCKETTIMEDOUT") or report.failures[1].message:find("timed? ?out"), report.failures[1].message)`);
    expect({ phase: r.completion.phase, message: r.completion.message }).toMatchObject({ phase: 'Failed' });
    expect(r.ms).toBeLessThan(3000);
  });

  it('cancel and the run timeout abort the newman run promptly', async () => {
    // cancel once the slow request's step has started (the request is then in flight)
    const controller = new AbortController();
    const events: RunEvent[] = [];
    let cancelledAt = 0;
    const completion = await runner.run(
      {
        runId: 'postman-cancel',
        script: `postman.run{ collection = "postman/api.postman_collection.json", environment = "postman/local.postman_environment.json", folder = "slow" }\nerror("not reached")`,
        fileName: 'api.lua',
        files: files(),
        env: {},
        timeoutMs: 60_000,
        memoryLimitBytes: 64 * MiB,
      },
      (e) => {
        events.push(e);
        if (e.type === 'step.start' && e.name === 'slow' && !cancelledAt) {
          cancelledAt = Date.now();
          controller.abort();
        }
      },
      controller.signal,
    );
    expect(completion).toMatchObject({ phase: 'Cancelled' });
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    expect(steps(events)).toEqual(['slow: failed']);

    const t = await run(`postman.run{ collection = "postman/api.postman_collection.json", environment = "postman/local.postman_environment.json", folder = "slow" }`, { timeoutMs: 400 });
    expect(t.completion).toMatchObject({ phase: 'TimedOut' });
    expect(t.ms).toBeLessThan(1400);
  });

  it('runs 3 requests quickly (measured)', async () => {
    const r = await run(`
local t = os.clock()
local passed, report = postman.run{ collection = "postman/api.postman_collection.json", environment = "postman/local.postman_environment.json", folder = { "health", "users" } }
log.info("duration_ms=" .. report.duration_ms .. " requests=" .. report.requests)
`);
    const line = r.logs.find((l) => l.includes('duration_ms='))!;
    console.log(`postman.run (3 requests): ${line}, whole run ${r.ms} ms`);
    expect(line).toMatch(/requests=3$/);
  });
});
