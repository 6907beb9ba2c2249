-- A Postman collection run from Lua: calls topas's own API, so it works with nothing else running.
-- Run it:  npx topas test schedule --script examples/tests/postman.lua --wait
--          (the CLI sends the files next to the script, so postman/*.json travel with it;
--           set TOPAS_URL with --env when topas listens elsewhere)
-- Each request becomes a step of the run, each Postman test an assertion.

local postman = require("postman")
local base = env.TOPAS_URL or "http://127.0.0.1:4000"

test("topas API (Postman collection)", function()
  -- the environment file points at the default address; TOPAS_URL replaces it
  local environment = "postman/local.postman_environment.json"
  if env.TOPAS_URL then environment = { baseUrl = env.TOPAS_URL, limit = "5" } end
  local passed, report = postman.run{
    collection = "postman/topas-api.postman_collection.json",
    environment = environment,
    timeout = "10s",
  }
  log.info(("%d requests, %d tests, %d failures in %.0f ms"):format(report.requests, #report.assertions, #report.failures, report.duration_ms))
  assert(passed, "the whole collection passes")
end)

test("only the api folder, against TOPAS_URL", function()
  -- an inline environment (a plain table) overrides the file's baseUrl
  local passed, report = postman.run{
    collection = "postman/topas-api.postman_collection.json",
    environment = { baseUrl = base, limit = "2" },
    folder = "api",
  }
  assert(passed, "the api folder passes")
  assert(report.requests == 2, "the folder has 2 requests, ran " .. report.requests)
end)
