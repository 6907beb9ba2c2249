import type { LuaModule } from './lua-module.js';

/**
 * `require("postman")`: runs a Postman collection (v2.1) with newman, in process.
 *
 *   local passed, report = postman.run{ collection, environment, folder, globals, iterationData, timeout }
 *
 * `collection`, `environment`, `globals`, `iterationData`: a path of a file next to the
 * script (JSON) or an inline table. `folder`: a folder (or request) name, or a list.
 * `timeout`: per request (ms or "5s"; default 30s). Each request is a step, each Postman
 * test an assertion. `report = { requests, failed, assertions, failures, duration_ms }`.
 */
export const postmanModule: LuaModule = {
  name: 'postman',
  lazy: true,
  lua: String.raw`
local type, tostring, error, format, pairs = type, tostring, error, string.format, pairs
local postman = T.module_table("postman")

local function fail(what)
  error(format("postman.run: %s (%s)", what, T.where()), 0)
end

local function source(name, v, list)
  if v == nil or type(v) == "string" then return v end
  if type(v) ~= "table" then fail(name .. " must be a file path or a table, got " .. type(v)) end
  if list then return T.json.array(v) end
  return v
end

function postman.run(spec)
  if type(spec) ~= "table" then fail("expects a table { collection = ..., ... }, got " .. type(spec)) end
  if spec.collection == nil then fail("collection is required (a file next to the script, or a table)") end
  local folder = spec.folder
  if folder ~= nil and type(folder) ~= "string" and type(folder) ~= "table" then
    fail("folder must be a name or a list of names, got " .. type(folder))
  end
  if type(folder) == "table" then folder = T.json.array(folder) end
  local timeout = 30000
  if spec.timeout ~= nil then timeout = T.duration(spec.timeout, "postman.run timeout") end
  local file, line
  if T.frame then file, line = T.frame() else file, line = T.file, T.line() end
  local r = host.postman_run(T.json.encode({
    collection = source("collection", spec.collection),
    environment = source("environment", spec.environment),
    globals = source("globals", spec.globals),
    iterationData = source("iterationData", spec.iterationData, true),
    folder = folder,
    timeout = timeout,
    line = line,
    file = file,
  })):await()
  if r.stopped then error(T.STOP, 0) end
  if not r.ok then fail(r.error) end
  local report = T.json.decode(r.report)
  if not r.passed then
    local first = report.failures[1]
    T.mark_failed((line and (file .. ":" .. line .. ": ") or "") .. "postman: " .. (first and first.message or "the collection failed"))
  end
  return r.passed, report
end

T.modules.postman = postman
T.globals.postman = postman
`,
};
