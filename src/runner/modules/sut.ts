import type { LuaModule } from './lua-module.js';

/**
 * `require("sut")`: the system under test — the App the run targets (`--app NAME`).
 *
 *   sut.apply_service(name, { image, version, replicas, env, port, local })  -- change (or add) a service; returns its status
 *   sut.wait_ready(name, "60s")   -- until every replica of the current spec is ready; returns the status
 *   sut.status(name)              -- { name, version, replicas, ready_replicas, restarts, endpoint, ... }; sut.status() is the App's
 *   sut.scale(name, n)            sut.restart(name)            sut.kill(name, { replica = 0 }) -> pid
 *   sut.endpoint(name)            -- { host, port, address = "host:port", url = "http://host:port" }
 *   sut.logs(name, { tail = 100 }) -- the last lines of the service's replicas
 *
 * Changes (apply_service, scale, restart, kill) and wait_ready are recorded as steps
 * of the run; a failing one fails the enclosing test like a failed step. A run that
 * declared it only reads its App cannot change it.
 */
export const sutModule: LuaModule = {
  name: 'sut',
  lazy: true,
  lua: String.raw`
local type, tostring, error, format, mtype = type, tostring, error, string.format, math.type
local sut = T.module_table("sut")

local function fail(call, what)
  error(format("sut.%s: %s (%s)", call, what, T.where(1)), 0)
end

local function call(op, args)
  local r = host.sut_call(op, T.json.encode(T.json.array(args))):await()
  if r.stopped then error(T.STOP, 0) end
  if not r.ok then fail(op, r.error) end
  return T.json.decode(r.value)
end

local function name_arg(op, name)
  if type(name) ~= "string" or name == "" then fail(op, "the first argument must be a service name (string), got " .. T.render(name)) end
  return name
end

-- A change recorded as a step named after what it does (at the user's line: T.frame
-- walks up to the first frame of user code, whatever tail calls removed).
local function change(label, op, args)
  local file, line = T.frame(1)
  local result
  T.block("step", label, function() result = call(op, args) end, file, line)
  return result
end

local function describe(spec)
  local parts = {}
  for _, k in ipairs({ "version", "replicas", "image" }) do
    if spec[k] ~= nil then parts[#parts + 1] = k .. " " .. tostring(spec[k]) end
  end
  if spec.env ~= nil then parts[#parts + 1] = "env" end
  return #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or ""
end

function sut.apply_service(name, spec)
  name = name_arg("apply_service", name)
  if type(spec) ~= "table" then fail("apply_service", "the second argument must be a table { version = ..., replicas = ... }, got " .. T.render(spec)) end
  local copy = {}
  for k, v in pairs(spec) do
    if type(k) ~= "string" then fail("apply_service", "spec keys must be field names, got " .. T.render(k)) end
    copy[k] = v
  end
  return change("sut.apply_service " .. name .. describe(spec), "apply_service", { name, T.json.object(copy) })
end

function sut.wait_ready(name, timeout)
  name = name_arg("wait_ready", name)
  local ms = T.duration(timeout == nil and "60s" or timeout, "sut.wait_ready timeout")
  return change("sut.wait_ready " .. name, "wait_ready", { name, ms })
end

function sut.scale(name, replicas)
  name = name_arg("scale", name)
  if mtype(replicas) ~= "integer" or replicas < 0 then fail("scale", "replicas must be a whole number >= 0, got " .. T.render(replicas)) end
  return change("sut.scale " .. name .. " to " .. replicas, "scale", { name, replicas })
end

function sut.restart(name)
  name = name_arg("restart", name)
  return change("sut.restart " .. name, "restart", { name })
end

function sut.kill(name, opts)
  name = name_arg("kill", name)
  local replica = 0
  if opts ~= nil then
    if type(opts) ~= "table" then fail("kill", "options must be a table { replica = 0 }, got " .. T.render(opts)) end
    if opts.replica ~= nil then
      if mtype(opts.replica) ~= "integer" or opts.replica < 0 then fail("kill", "replica must be a whole number >= 0, got " .. T.render(opts.replica)) end
      replica = opts.replica
    end
  end
  local r = change("sut.kill " .. name .. " replica " .. replica, "kill", { name, replica })
  return r and r.pid
end

function sut.status(name)
  if name ~= nil then name = name_arg("status", name) end
  return call("status", { name == nil and T.json.null or name })
end

function sut.endpoint(name)
  name = name_arg("endpoint", name)
  return call("endpoint", { name })
end

function sut.logs(name, opts)
  name = name_arg("logs", name)
  local tail = 100
  if opts ~= nil then
    if type(opts) ~= "table" then fail("logs", "options must be a table { tail = 100 }, got " .. T.render(opts)) end
    if opts.tail ~= nil then
      if mtype(opts.tail) ~= "integer" or opts.tail < 1 then fail("logs", "tail must be a whole number >= 1, got " .. T.render(opts.tail)) end
      tail = opts.tail
    end
  end
  return call("logs", { name, tail })
end

T.modules.sut = sut
T.globals.sut = sut
`,
};
