-- An HTTP test: calls topas's own API, so it works with nothing else running.
-- Run it:  npx topas test schedule --script examples/tests/http.lua --wait
--          (set TOPAS_URL with --env when topas listens elsewhere, and
--           TOPAS_TOKEN=<a viewer token> to also read the API with a token)

local net = require("net")
local base = env.TOPAS_URL or "http://127.0.0.1:4000"

test("the server is healthy", function()
  local resp = net.get(base .. "/healthz")
  assert(resp.code == 200, "healthz answers 200, got " .. resp.code)
  assert(resp.json.status == "ok", "status is ok")
end)

test("the API asks for a token", function()
  local resp = net.get(base .. "/api/runs", { query = { limit = 5 } })
  assert(resp.code == 401, "a call without a token is a 401, got " .. resp.code)
  log.info("server said:", resp.json.error.message)
end)

test("bad input is rejected with the field named", function()
  local resp = net.post(base .. "/api/session", nil, { json = { token = 5 } })
  assert(resp.code == 400, "invalid login is a 400, got " .. resp.code)
  assert(resp.json.error.message:find("^token: "), "the message names the field")
end)

test("the API lists runs (with TOPAS_TOKEN)", function()
  if not env.TOPAS_TOKEN then skip("set TOPAS_TOKEN to a viewer token to read the API") end
  local resp = net.get(base .. "/api/runs", { query = { limit = 5 }, headers = { Authorization = "Bearer " .. env.TOPAS_TOKEN } })
  assert(resp.code == 200, "list answers 200, got " .. resp.code)
  assert(type(resp.json.items) == "table", "items is a list")
  log.info("recent runs:", #resp.json.items)
end)
