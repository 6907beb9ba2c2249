-- Helpers shared by the demo-service tests: `require("lib.users")` loads this file
-- from the test's own folder (the CLI bundles it with the script).
local net = require("net")

local users = {}

--- Creates a user over the HTTP API and returns the response.
function users.create(base, name, role)
  return net.post(base .. "/api/users", { name = name, role = role or "viewer" })
end

--- A name nobody has used yet, for tests that must not collide.
function users.fresh_name(prefix)
  return (prefix or "user") .. "-" .. uuid():sub(1, 8)
end

return users
