import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { createLuaRunner } from './lua-runner.js';
import { runScript, type ScriptResult } from './testing/script-run.js';
import type { ScriptJob, ScriptRunner } from './runner.js';
import { startTestDatabase, type TestDatabase } from './testing/test-database.js';

const MiB = 1024 * 1024;
let runner: ScriptRunner;
let database: TestDatabase;
let n = 0;

beforeAll(async () => {
  database = await startTestDatabase('topas_db_test');
  await database.exec(`
    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, role text, age int, big bigint, price numeric(10,2), meta jsonb);
    CREATE TABLE "odd ""name""" (v text);
  `);
  runner = createLuaRunner({ workers: 1 });
});

afterAll(async () => {
  await runner?.close();
  await database?.close();
});

type Result = ScriptResult;

async function run(script: string, extra: Partial<ScriptJob> = {}, signal?: AbortSignal): Promise<Result> {
  const env = {
    DB_URL: database.url,
    DB_HOST: database.host,
    DB_PORT: String(database.port),
    DB_USER: database.user,
    DB_PASS: database.password,
    DB_NAME: database.db,
  };
  return runScript(runner, { script, fileName: 'upgrade.lua', env, ...extra }, signal);
}

async function passes(script: string, extra: Partial<ScriptJob> = {}): Promise<Result> {
  const r = await run(script, extra);
  expect(r.completion.phase, `${r.completion.message}\n${r.logs.join('\n')}`).toBe('Passed');
  return r;
}

const CONNECT = `db.connect{ host = env.DB_HOST, port = tonumber(env.DB_PORT), user = env.DB_USER, password = env.DB_PASS, db = env.DB_NAME }`;

describe('db', () => {
  it('connects by table and queries with params; NULL is json.null; types map as documented', async () => {
    await passes(`
      local conn = ${CONNECT}
      local rows = db.query([[SELECT $1::int AS a, $2::text AS b, NULL AS c, 9007199254740993::bigint AS huge, 42::bigint AS small, 1.50::numeric AS num, true AS t, '{"k":[1,2]}'::jsonb AS j, '2024-01-02'::date AS d]], { 7, "x" })
      assert(#rows == 1)
      local r = rows[1]
      assert(r.a == 7 and math.type(r.a) == "integer", "int")
      assert(r.b == "x")
      assert(r.c == json.null, "NULL is json.null")
      assert(r.huge == "9007199254740993", "big bigint as string")
      assert(r.small == 42, "small bigint as number")
      assert(r.num == "1.50", "numeric as string")
      assert(r.t == true)
      assert(r.j.k[2] == 2, "jsonb decoded")
      assert(r.d == "2024-01-02", "date as text")
      -- a nil param in the middle: use json.null; a table param is sent as JSON
      local p = conn:query("SELECT $1::text IS NULL AS isnull, $2::jsonb->>'a' AS a", { json.null, { a = "b" } })
      assert(p[1].isnull == true and p[1].a == "b")
      assert(#db.query("SELECT 1 WHERE false") == 0)
      db.close()
    `);
  });

  it('connects by URL and exec returns the affected rows', async () => {
    await passes(`
      local db = require("db")
      local conn = db.connect(env.DB_URL)
      assert(tostring(conn):find("db.connection"), tostring(conn))
      assert(conn:exec("INSERT INTO users (name, role) VALUES ($1, 'x'), ($2, 'x'), ($3, 'x')", { "u1", "u2", "u3" }) == 3)
      assert(db.exec("UPDATE users SET age = 1 WHERE role = 'x'") == 3)
      assert(db.exec("DELETE FROM users WHERE role = $1", { "x" }) == 3)
      conn:close()
    `);
  });

  it('runs the design-document example as written (host = 127.0.0.1)', async () => {
    await passes(`
      local db = require("db")
      db.connect({ host="${database.host}", port=${database.port}, user="${database.user}", password="${database.password}", db="${database.db}" })
      db.seed({ table="users", rows={{name="alice", role="admin"}} })
      db.expect({ table="users", where={name="alice"} })
    `);
    await database.exec(`DELETE FROM users`);
  });

  it('seeds all rows in one transaction: a bad row inserts nothing; the error names call, table, row and line', async () => {
    const r = await run(`${CONNECT}
local ok, err = pcall(db.seed, { table = "users", rows = {
  { name = "bob", role = "dev" },
  { name = "carol", rol = "dev" },
} })
assert(not ok)
assert(err == 'db.seed users: row 2: column "rol" of relation "users" does not exist (upgrade.lua:2)', err)
assert(#db.query("SELECT * FROM users WHERE name IN ('bob', 'carol')") == 0, "nothing inserted")
assert(db.seed{ table = "users", rows = { { name = "dave", meta = { tags = { "a" } }, age = json.null } } } == 1)
assert(db.query("SELECT meta->'tags'->>0 AS t FROM users WHERE name = 'dave'")[1].t == "a")
assert(db.seed{ table = 'odd "name"', rows = { { v = "q'uote" } } } == 1)
db.seed { table = "users", rows = { { name = "x", rol = "y" } } }
`);
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'ScriptError' });
    expect(r.completion.message).toBe('db.seed users: column "rol" of relation "users" does not exist (upgrade.lua:12)');
    expect(await database.query(`SELECT v FROM "odd ""name"""`)).toEqual([{ v: "q'uote" }]);
    await database.exec(`DELETE FROM users`);
  });

  it('expect passes, and on failure records the counts, the closest rows and the line', async () => {
    await database.exec(`INSERT INTO users (name, role, age) VALUES ('alice', 'admin', 30), ('alicia', 'admin', 31), ('bob', 'dev', 40)`);
    const ok = await passes(`${CONNECT}
assert(db.expect{ table = "users", where = { role = "admin" } } == true)
db.expect{ table = "users", where = { role = "admin" }, count = 2 }
db.expect{ table = "users", where = { name = "zed" }, count = 0 }
db.expect{ table = "users", where = { age = json.null, name = "nobody" }, count = 0 }
db.expect{ table = "users" }
`);
    const passed = ok.events.filter((e) => e.type === 'assertion' && e.passed);
    expect(passed.map((e) => (e as { message: string }).message)).toContain('db.expect users where role = "admin": 2 rows');

    const r = await run(`${CONNECT}
test("admins", function()
  db.expect{ table = "users", where = { name = "alice", role = "dev" } }
end)
`);
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed' });
    expect(r.completion.message).toBe('upgrade.lua:3: db.expect users where name = "alice" AND role = "dev": expected at least 1 row, found 0');
    const failed = r.events.find((e) => e.type === 'assertion' && !e.passed) as Extract<RunEvent, { type: 'assertion' }>;
    expect(failed).toMatchObject({ location: { file: 'upgrade.lua', line: 3 }, expected: 'at least 1 row' });
    expect(failed.actual).toMatch(/^0 rows; closest rows:\n {2}.*"name":"alice"/);
    expect(failed.actual).toContain('"role":"admin"');
    const stepEnd = r.events.find((e) => e.type === 'step.end');
    expect(stepEnd).toMatchObject({ status: 'failed' });

    const wrongCount = await run(`${CONNECT}\ndb.expect{ table = "users", where = { role = "admin" }, count = 1 }`);
    expect(wrongCount.completion.message).toBe('upgrade.lua:2: db.expect users where role = "admin": expected 1 row, found 2');
    await database.exec(`DELETE FROM users`);
  });

  it('names the call, the table and the line in errors', async () => {
    const q = await run(`${CONNECT}\nlocal rows = db.query("SELEC 1")`);
    expect(q.completion.message).toBe('db.query: syntax error at or near "SELEC" (upgrade.lua:2)');
    const t = await run(`${CONNECT}\n\ndb.expect{ table = "nope", where = { a = 1 } }`);
    expect(t.completion.message).toBe('db.expect nope: relation "nope" does not exist (upgrade.lua:3)');
    const nc = await run(`db.query("SELECT 1")`);
    expect(nc.completion.message).toBe('db.query: not connected (call db.connect first) (upgrade.lua:1)');
    const refused = await run(`db.connect{ host = "127.0.0.1", port = 1, user = "x", db = "y" }`);
    expect(refused.completion.message).toBe('db.connect 127.0.0.1:1/y: connection refused (upgrade.lua:1)');
    const badUrl = await run(`db.connect("postgres://u:secret@127.0.0.1:1/y")`);
    expect(badUrl.completion.message).toBe('db.connect postgres://u:***@127.0.0.1:1/y: connection refused (upgrade.lua:1)');
    const mysql = await run(`db.connect("mysql://u@127.0.0.1/y")`);
    expect(mysql.completion.message).toMatch(/unsupported database "mysql" \(supported: postgres\)/);
    const closed = await run(`local c = ${CONNECT}\nc:close()\nc:query("SELECT 1")`);
    expect(closed.completion.message).toMatch(/^db\.query: the connection .* is closed \(upgrade\.lua:3\)$/);
    const args = await run(`${CONNECT}\ndb.seed{ table = "users", rows = "x" }`);
    expect(args.completion.message).toBe('db.seed users: rows must be a list of rows, got string (upgrade.lua:2)');
  });

  // PGlite runs one session: a second connection waits for the first one's transaction
  it.skipIf(!process.env.TEST_DATABASE_URL)('keeps connections apart and closes what the script left open', async () => {
    await passes(`
      local a = db.connect(env.DB_URL)
      local b = ${CONNECT}
      a:exec("BEGIN")
      a:exec("INSERT INTO users (name) VALUES ('tx')")
      assert(#b:query("SELECT * FROM users WHERE name = 'tx'") == 0, "b does not see a's transaction")
      assert(#a:query("SELECT * FROM users WHERE name = 'tx'") == 1)
      -- a is left open, its transaction uncommitted: the run end closes it (rolled back)
    `);
    expect(await database.query(`SELECT * FROM users WHERE name = 'tx'`)).toEqual([]);
  });

  // PGlite cannot cancel a statement (and pg_sleep blocks its process)
  it.skipIf(!process.env.TEST_DATABASE_URL)('a cancel during SELECT pg_sleep(10) ends Cancelled within 1 s and stops the query on the server', async () => {
    const controller = new AbortController();
    const pending = run(`${CONNECT}\nlog.info("sleeping")\ndb.query("SELECT pg_sleep(10)")\nerror("not reached")`, {}, controller.signal);
    // wait until the query runs on the server
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const rows = await database.query(`SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'`);
      if (rows.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const cancelledAt = Date.now();
    controller.abort();
    const r = await pending;
    expect(r.completion).toMatchObject({ phase: 'Cancelled', reason: 'Cancelled' });
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    // the server stopped the statement (no leaked backend sleeping on)
    let left = 1;
    for (let i = 0; i < 50 && left; i++) {
      left = (await database.query(`SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'`)).length;
      if (left) await new Promise((res) => setTimeout(res, 20));
    }
    expect(left).toBe(0);
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('a timeout during a long query ends TimedOut promptly', async () => {
    const r = await run(`${CONNECT}\ndb.query("SELECT pg_sleep(10)")`, { timeoutMs: 500 });
    expect(r.completion).toMatchObject({ phase: 'TimedOut' });
    expect(r.ms).toBeLessThan(1500);
  });
});
