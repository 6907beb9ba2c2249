-- app: demo
-- The upgrade walk-through: seed data on v1, roll the users service to v2, check
-- over HTTP and gRPC that the data survived, run a Postman collection, and verify
-- the final state in SQL. The names "users" and "users-db" are the App's service
-- and database: the same file runs unchanged on a cluster.
--
--   npx topas app apply -f examples/apps/demo/app.yaml --wait
--   npx topas test schedule --script examples/tests/upgrade_test.lua --app demo --wait

local sut = require("sut")

before_all(function()
  -- start from v1, whatever an earlier run left
  sut.apply_service("users", { version = "v1" })
  sut.wait_ready("users", "60s")
  db.connect({ host = "users-db", user = "admin", db = "users" })
  db.exec("DELETE FROM users")
end)

after_all(function()
  db.close()
end)

test("seed data on v1", function()
  db.seed({ table = "users", rows = {
    { name = "alice", role = "admin", labels = { team = "core" } },
    { name = "bob", role = "developer" },
  } })
  local resp = net.get("http://users/api/users/alice")
  expect(resp).to_have_status(200)
  expect(resp.headers["x-app-version"]).to_be("v1")
  expect(resp.json.displayName).to_be_nil()
end)

test("upgrade to v2", function()
  local status = sut.apply_service("users", { version = "v2" })
  expect(status.version).to_be("v2")
  local ready = sut.wait_ready("users", "60s")
  expect(ready.ready_replicas).to_be(ready.replicas)
  log.info("users is on v2 at " .. sut.endpoint("users").address)
end)

test("the data survived, over HTTP", function()
  local resp = net.get("http://users/api/users/alice")
  expect(resp).to_have_status(200)
  expect(resp.headers["x-app-version"]).to_be("v2")
  expect(resp.json.role).to_equal("admin")
  expect(resp.json.displayName).to_be("Alice") -- new in v2
  expect(net.get("http://users:8080/api/version").json.version).to_be("v2")
end)

test("the data survived, over gRPC", function()
  local bob = net.grpc("users:50051", "topas.UserService/GetUser", { name = "bob" })
  expect(bob.role).to_be("DEVELOPER")
  expect(#net.grpc("users:50051", "topas.UserService/ListUsers", {})).to_be(2)
end)

test("the Postman collection passes on v2", function()
  local passed, report = postman.run({
    collection = "postman/users.postman_collection.json",
    environment = { baseUrl = "http://users:8080" },
  })
  log.info(("postman: %d requests, %d failures"):format(report.requests, #report.failures))
  expect(passed).to_be_truthy()
end)

test("final state in the database", function()
  db.expect({ table = "users", where = { name = "alice", role = "admin" }, count = 1 })
  db.expect({ table = "users", where = { name = "dave" }, count = 1 }) -- created by the collection
  expect(db.query("SELECT count(*)::int AS n FROM users")[1].n).to_be(3)
end)
