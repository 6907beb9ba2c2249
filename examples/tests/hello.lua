-- A passing test: the smallest useful shape of a topas test.
-- Run it:  npx topas test schedule --script examples/tests/hello.lua --wait

log.info("hello from topas")

test("arithmetic still works", function()
  step("add", function()
    assert(1 + 1 == 2, "1 + 1 should be 2")
  end)
  step("concatenate", function()
    local greeting = "hello" .. ", " .. "world"
    assert(greeting == "hello, world", "strings concatenate")
  end)
end)

test("json round-trips", function()
  local doc = json.decode('{"name":"alice","roles":["admin","dev"]}')
  assert(doc.name == "alice", "name survives decoding")
  assert(#doc.roles == 2, "both roles are there")
  log.info("encoded again:", json.encode(doc))
end)
