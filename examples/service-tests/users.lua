-- The demo service end to end: seed its database, read over HTTP and gRPC, run a
-- Postman collection, and check the final state in SQL. Exercises every module.
--
-- Start the demo service (examples/apps/demo), then:
--   npx topas test schedule --script examples/service-tests/users.lua --wait \
--     --env BASE_URL=http://127.0.0.1:8080 --env GRPC_TARGET=127.0.0.1:50051 \
--     --env DB_URL=postgres://postgres@127.0.0.1:5432/demo
-- (the CLI sends lib/ and postman/ along with the script)

local users = require("lib.users")
local base = env.BASE_URL

before_all(function()
  db.connect(env.DB_URL)
  db.exec("DELETE FROM users")
end)

after_all(function()
  db.close()
end)

test("seeded users are served over HTTP", function()
  step("seed", function()
    db.seed({ table = "users", rows = {
      { name = "alice", role = "admin", labels = { team = "core" } },
      { name = "bob", role = "developer" },
    } })
  end)
  step("read alice", function()
    local resp = net.get(base .. "/api/users/alice")
    expect(resp).to_have_status(200)
    expect(resp.json).to_contain("name")
    expect(resp.json.role).to_equal("admin")
    expect(resp.json.labels).to_equal({ team = "core" })
  end)
  step("an unknown user is a 404", function()
    expect(net.get(base .. "/api/users/nobody")).to_have_status(404)
  end)
end)

test("a user created over HTTP is in the database", function()
  local name = users.fresh_name("carol")
  expect(users.create(base, name, "viewer")).to_have_status(201)
  db.expect({ table = "users", where = { name = name, role = "viewer" }, count = 1 })
end)

test("gRPC by reflection", function()
  local echo = net.grpc(env.GRPC_TARGET, "topas.EchoService/Echo", { message = "hello" })
  expect(echo.message).to_equal("hello")

  local alice = net.grpc(env.GRPC_TARGET, "topas.UserService/GetUser", { name = "alice" })
  expect(alice.role).to_be("ADMIN")
  expect(alice.labels.team).to_be("core")
  expect(alice.id).to_match("^%d+$") -- int64 arrives as a string

  local all = net.grpc(env.GRPC_TARGET, "topas.UserService/ListUsers", {})
  expect(#all).to_be_greater_than(2)

  local missing = net.grpc(env.GRPC_TARGET, "topas.UserService/GetUser", { name = "nobody" }, { raw = true })
  expect(missing.code_name).to_be("NOT_FOUND")
end)

test("the Postman collection passes", function()
  local passed, report = postman.run({
    collection = "postman/users.postman_collection.json",
    environment = { baseUrl = base },
    folder = "read",
  })
  log.info(("postman: %d requests, %d failures"):format(report.requests, #report.failures))
  expect(passed).to_be_truthy()
  expect(report.requests).to_be(2)
end)

test("the service stays healthy", function()
  eventually(function()
    expect(net.get(base .. "/healthz").json.status).to_equal("ok")
  end, { timeout = "5s", interval = "100ms" })
end)

test("final state", function()
  db.expect({ table = "users", where = { name = "alice" }, count = 1 })
  local rows = db.query("SELECT count(*)::int AS n FROM users")
  expect(rows[1].n).to_be(3)
end)
