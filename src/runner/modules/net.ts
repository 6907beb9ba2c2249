import type { LuaModule } from './lua-module.js';

/**
 * `require("net")`: HTTP from scripts.
 *
 *   net.get(url, opts)   net.delete(url, opts)
 *   net.post(url, body, opts)   net.put(url, body, opts)   net.patch(url, body, opts)
 *   net.request{ method, url, headers, query, body, json, timeout }
 *
 * opts: `headers` (table), `query` (table → query string; a list value repeats the key),
 * `json` (a value sent as JSON with content-type application/json), `body` (a string; a
 * table given as `body` is sent as JSON), `timeout` (ms or "5s"; default 30s).
 * Returns `{ code, headers, body, json, duration_ms, url }`; `json` is the decoded body
 * when the response is JSON, else nil; header names are lower-case. A failed connection
 * raises `net.get http://host/x: connection refused (hello.lua:3)`.
 */
export const netModule: LuaModule = {
  name: 'net',
  lua: String.raw`
local type, tostring, pairs, ipairs, error, format, sort = type, tostring, pairs, ipairs, error, string.format, table.sort
local host_request = host.net_request
local net = {}

local function fail(verb, url, what)
  error(format("net.%s %s: %s (%s)", verb, tostring(url), what, T.where()), 0)
end

local function flat_headers(verb, url, h)
  local out = {}
  if h == nil then return out end
  if type(h) ~= "table" then fail(verb, url, "headers must be a table, got " .. type(h)) end
  for k, v in pairs(h) do out[tostring(k)] = tostring(v) end
  return out
end

local function query_pairs(verb, url, q)
  local out = {}
  if q == nil then return out end
  if type(q) ~= "table" then fail(verb, url, "query must be a table, got " .. type(q)) end
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = tostring(k) end
  sort(keys)
  for _, k in ipairs(keys) do
    local v = q[k]
    if v == nil then v = q[tonumber(k)] end
    if type(v) == "table" then
      for _, item in ipairs(v) do out[#out + 1] = { k, tostring(item) } end
    else
      out[#out + 1] = { k, tostring(v) }
    end
  end
  return out
end

local function has_header(h, name)
  for k in pairs(h) do if k:lower() == name then return true end end
  return false
end

local function request(verb, method, url, body, opts)
  if type(url) ~= "string" then fail(verb, url, "the url must be a string, got " .. type(url)) end
  if opts ~= nil and type(opts) ~= "table" then fail(verb, url, "options must be a table, got " .. type(opts)) end
  opts = opts or {}
  local headers = flat_headers(verb, url, opts.headers)
  if body == nil then body = opts.body end
  local payload = opts.json
  if type(body) == "table" then payload, body = body, nil end
  if payload ~= nil then
    body = T.json.encode(payload)
    if not has_header(headers, "content-type") then headers["content-type"] = "application/json" end
  end
  if body ~= nil and type(body) ~= "string" then fail(verb, url, "the body must be a string or a table, got " .. type(body)) end
  local timeout = 30000
  if opts.timeout ~= nil then timeout = T.duration(opts.timeout, "net." .. verb .. " timeout") end
  local r = host_request({
    method = method, url = url, headers = headers, query = query_pairs(verb, url, opts.query),
    body = body, timeout = timeout,
  }):await()
  if r.stopped then error(T.STOP, 0) end
  if not r.ok then fail(verb, r.url or url, r.error) end
  local resp = { code = r.code, headers = r.headers, body = r.body, duration_ms = r.duration_ms, url = r.url }
  if r.is_json and r.body ~= "" then
    local ok, value = T.raw.pcall(T.json.decode, r.body)
    if ok then resp.json = value end
  end
  return resp
end

function net.get(url, opts) return request("get", "GET", url, nil, opts) end
function net.delete(url, opts) return request("delete", "DELETE", url, nil, opts) end
function net.post(url, body, opts) return request("post", "POST", url, body, opts) end
function net.put(url, body, opts) return request("put", "PUT", url, body, opts) end
function net.patch(url, body, opts) return request("patch", "PATCH", url, body, opts) end
function net.request(spec)
  if type(spec) ~= "table" then fail("request", nil, "expects a table { method, url, ... }, got " .. type(spec)) end
  local method = spec.method or "GET"
  if type(method) ~= "string" then fail("request", spec.url, "method must be a string") end
  return request("request", method:upper(), spec.url, nil, spec)
end

T.modules.net = net
T.globals.net = net
`,
};
