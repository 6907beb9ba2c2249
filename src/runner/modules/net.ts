import type { LuaModule } from './lua-module.js';

/**
 * `require("net")`: HTTP and gRPC from scripts (reference: docs/lua-api-net.md).
 *
 *   net.get(url, opts)   net.delete(url, opts)
 *   net.post(url, body, opts)   net.put(url, body, opts)   net.patch(url, body, opts)
 *   net.request{ method, url, headers, query, body, json, form, timeout, ... }
 *   net.cookies([url or host])
 *   net.grpc(target, "pkg.Service/Method", message, opts)
 *
 * HTTP opts: `headers` (table), `query` (table → query string; a list value repeats the
 * key), `json` (a value sent as JSON with content-type application/json), `body` (a string
 * sent as-is; a table given as `body` is sent as JSON), `form` (table → urlencoded),
 * `timeout` (ms or "5s"; default 30s), `redirect` ("follow" | "manual" | "error"),
 * `insecure` (accept any certificate), `ca` (PEM), `cookies` (use the run's cookie jar).
 * Returns `{ code, headers, body, json, duration_ms, url }`; `json` is the decoded body
 * when the response is JSON, else nil; header names are lower-case. A failed connection
 * raises `net.get http://host/x: connection refused (hello.lua:3)`.
 *
 * gRPC: the response message as a table (proto3 JSON mapping) plus `_metadata` and
 * `_status`; a server-streaming or bidirectional method returns the list of messages
 * (same two fields). Client-streaming and bidirectional methods take a list of messages.
 * A non-OK status raises `net.grpc host:port pkg.S/M: NOT_FOUND: msg (hello.lua:3)`,
 * or with `opts.raw` returns `{ code, code_name, message, metadata, messages }`.
 */
export const netModule: LuaModule = {
  name: 'net',
  lazy: true,
  lua: String.raw`
local type, tostring, pairs, ipairs, error, format, sort = type, tostring, pairs, ipairs, error, string.format, table.sort
local host_request = host.net_request
local net = T.module_table("net")

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
  local form = nil
  if opts.form ~= nil then
    if type(opts.form) ~= "table" then fail(verb, url, "form must be a table, got " .. type(opts.form)) end
    if body ~= nil then fail(verb, url, "give either form or body/json, not both") end
    form = query_pairs(verb, url, opts.form)
  end
  local redirect = opts.redirect
  if redirect ~= nil and redirect ~= "follow" and redirect ~= "manual" and redirect ~= "error" then
    fail(verb, url, 'redirect must be "follow", "manual" or "error", got ' .. tostring(redirect))
  end
  if opts.ca ~= nil and type(opts.ca) ~= "string" then fail(verb, url, "ca must be a PEM string, got " .. type(opts.ca)) end
  local timeout = 30000
  if opts.timeout ~= nil then timeout = T.duration(opts.timeout, "net." .. verb .. " timeout") end
  local r = host_request({
    method = method, url = url, headers = headers, query = query_pairs(verb, url, opts.query),
    body = body, form = form, timeout = timeout, redirect = redirect,
    insecure = opts.insecure == true, ca = opts.ca, cookies = opts.cookies == true,
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

-- net.cookies([url or host]): the run's cookie jar (filled by requests with cookies = true).
function net.cookies(target)
  if target ~= nil and type(target) ~= "string" then
    error(format("net.cookies: expects a URL or host name, got %s (%s)", type(target), T.where()), 0)
  end
  return T.json.decode(host.net_cookies(target))
end

-- gRPC ------------------------------------------------------------------------------

local grpc_call = host.grpc_call

local function grpc_fail(target, method, what)
  error(format("net.grpc %s %s: %s (%s)", tostring(target), tostring(method), what, T.where(3)), 0)
end

local function with_meta(t, r)
  t._metadata = T.json.object(r.metadata or {})
  t._status = r.status
  return t
end

function net.grpc(target, method, message, opts)
  if type(target) ~= "string" then grpc_fail(target, method, "the target must be a string \"host:port\", got " .. type(target)) end
  if type(method) ~= "string" then grpc_fail(target, method, "the method must be a string \"package.Service/Method\", got " .. type(method)) end
  if message ~= nil and type(message) ~= "table" then grpc_fail(target, method, "the message must be a table, got " .. type(message)) end
  if opts ~= nil and type(opts) ~= "table" then grpc_fail(target, method, "options must be a table, got " .. type(opts)) end
  opts = opts or {}
  local metadata = {}
  if opts.metadata ~= nil then
    if type(opts.metadata) ~= "table" then grpc_fail(target, method, "metadata must be a table, got " .. type(opts.metadata)) end
    for k, v in pairs(opts.metadata) do
      if type(v) == "table" then
        local list = {}
        for i, item in ipairs(v) do list[i] = tostring(item) end
        metadata[tostring(k)] = T.json.array(list)
      else
        metadata[tostring(k)] = tostring(v)
      end
    end
  end
  local proto = opts.proto
  if proto ~= nil and type(proto) ~= "string" then
    if type(proto) ~= "table" then grpc_fail(target, method, "proto must be a path or a list of paths, got " .. type(proto)) end
    proto = T.json.array(proto)
  end
  if opts.ca ~= nil and type(opts.ca) ~= "string" then grpc_fail(target, method, "ca must be a PEM string, got " .. type(opts.ca)) end
  local timeout = 30000
  if opts.timeout ~= nil then timeout = T.duration(opts.timeout, "net.grpc timeout") end
  -- a list of messages (client- or bidi-streaming methods) goes as a list
  local body = message or {}
  if body[1] ~= nil then body = T.json.array(body) else body = T.json.object(body) end
  local ok, request = T.raw.pcall(T.json.encode, {
    target = target, method = method, message = body, metadata = T.json.object(metadata),
    timeout = timeout, tls = opts.tls == true, insecure = opts.insecure == true, ca = opts.ca, proto = proto,
  })
  if not ok then
    if T.is_fatal(request) then error(request, 0) end
    grpc_fail(target, method, "the message cannot be sent: " .. tostring(request):gsub("^[^:]+:%d+: ", ""))
  end
  local r = T.json.decode(grpc_call(request):await())
  if r.stopped then error(T.STOP, 0) end
  if r.error then grpc_fail(target, method, r.error) end
  if not r.ok then
    if opts.raw then
      local s = r.status
      return { code = s.code, code_name = s.code_name, message = s.message, metadata = T.json.object(r.metadata or {}), messages = r.messages }
    end
    local msg = r.status.message
    grpc_fail(target, method, r.status.code_name .. (msg ~= "" and (": " .. msg) or ""))
  end
  if r.stream then return with_meta(r.messages, r) end
  return with_meta(r.messages[1] or T.json.object({}), r)
end

T.modules.net = net
T.globals.net = net
`,
};
