-- A failing test, so you can see what a failure looks like in topas:
-- the failed assertion is reported with its message and line, the failed step
-- is marked, and the next test still runs.
-- Run it:  npx topas test schedule --script examples/tests/failing.lua --wait   (exits 1)

test("checkout totals", function()
  local cart = { { price = 10, qty = 2 }, { price = 5, qty = 1 } }
  step("sum the cart", function()
    local total = 0
    for _, item in ipairs(cart) do total = total + item.price * item.qty end
    log.info("total is", total)
    assert(total == 30, "expected a total of 30, got " .. total)
  end)
  step("apply discount", function()
    log.info("never reached: the step above failed")
  end)
end)

test("this test still runs and passes", function()
  assert(#"topas" == 5, "five letters")
end)
