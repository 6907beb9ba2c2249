import type { LuaModule } from './lua-module.js';

/**
 * `require("db")`: SQL databases from scripts (PostgreSQL for now; see host-db.ts).
 *
 *   local conn = db.connect{ host, port, user, password, db, timeout }   -- or db.connect("postgres://...")
 *   db.query(sql, params) -> rows      db.exec(sql, params) -> affected rows
 *   db.seed{ table, rows } -> inserted  db.expect{ table, where, count } -> true (raises on failure)
 *   db.close()
 *
 * The module functions act on the last connection made; the same functions are methods
 * of each connection (`conn:query(...)`). Params are a list bound as $1, $2, ...; use
 * `json.null` for NULL (a nil would end the list). NULL in results is `json.null`.
 * Errors: `db.seed users: column "rol" of relation "users" does not exist (upgrade.lua:14)`.
 */
export const dbModule: LuaModule = {
  name: 'db',
  lazy: true,
  lua: String.raw`
local type, tostring, pairs, ipairs, error, format, setmetatable, getmetatable, mtype =
  type, tostring, pairs, ipairs, error, string.format, setmetatable, getmetatable, math.type
local db = T.module_table("db")
local Conn = { __name = "db.connection" }
Conn.__index = Conn
Conn.__tostring = function(c) return "db.connection(" .. c.label .. ")" end
local current = nil

local function fail(call, what)
  error(format("db.%s: %s (%s)", call, what, T.where()), 0)
end

local function check(call, r)
  if r.stopped then error(T.STOP, 0) end
  if not r.ok then fail(call, r.error) end
  return r
end

local function self_of(call, c)
  if getmetatable(c) ~= Conn then
    fail(call, "call it on a connection with ':' (conn:" .. call .. "(...)) or as db." .. call .. "(...)")
  end
  if c.closed then fail(call, "the connection " .. c.label .. " is closed") end
  return c
end

-- A Lua list (holes allowed up to the highest index, or params.n) as JSON; nil -> NULL.
local function params_json(call, params)
  if params == nil then return "[]" end
  if type(params) ~= "table" then fail(call, "params must be a list, got " .. type(params)) end
  local n = 0
  for k in pairs(params) do
    if mtype(k) == "integer" and k > n then n = k
    elseif k ~= "n" then fail(call, "params must be a list (1, 2, ...), got key " .. T.quote(tostring(k))) end
  end
  if mtype(params.n) == "integer" then n = params.n end
  local list = {}
  for i = 1, n do
    local v = params[i]
    if v == nil then v = T.json.null end
    list[i] = v
  end
  return T.json.encode(T.json.array(list))
end

local function sql_arg(call, sql)
  if type(sql) ~= "string" then fail(call, "the SQL must be a string, got " .. type(sql)) end
  return sql
end

function db.connect(spec)
  local target, label
  if type(spec) == "string" then
    target = { url = spec }
    label = spec:gsub("//([^:/@]*):[^@/]*@", "//%1:***@")
  elseif type(spec) == "table" then
    local url = spec.url
    if url ~= nil then
      if type(url) ~= "string" then fail("connect", "url must be a string, got " .. type(url)) end
      target = { url = url }
      label = url:gsub("//([^:/@]*):[^@/]*@", "//%1:***@")
    else
      if type(spec.host) ~= "string" then fail("connect", "host must be a string (or give url), got " .. type(spec.host)) end
      local port = spec.port or 5432
      if mtype(tonumber(port)) ~= "integer" then fail("connect", "port must be an integer, got " .. tostring(port)) end
      local name = spec.db or spec.database
      target = {
        host = spec.host, port = tonumber(port),
        user = spec.user ~= nil and tostring(spec.user) or nil,
        password = spec.password ~= nil and tostring(spec.password) or nil,
        db = name ~= nil and tostring(name) or nil,
      }
      label = spec.host .. ":" .. tostring(port) .. "/" .. tostring(name or "")
    end
    if spec.driver ~= nil then target.driver = tostring(spec.driver) end
  else
    fail("connect", "expects a table { host, port, user, password, db } or a URL string, got " .. type(spec))
  end
  target.timeout = 10000
  if type(spec) == "table" and spec.timeout ~= nil then target.timeout = T.duration(spec.timeout, "db.connect timeout") end
  local r = host.db_connect(T.json.encode(target)):await()
  if r.stopped then error(T.STOP, 0) end
  if not r.ok then fail("connect " .. label, r.error) end
  local c = setmetatable({ id = r.id, label = r.label, closed = false }, Conn)
  current = c
  return c
end

function Conn.query(c, sql, params)
  c = self_of("query", c)
  local r = check("query", host.db_query(c.id, sql_arg("query", sql), params_json("query", params)):await())
  return T.json.decode(r.rows)
end

function Conn.exec(c, sql, params)
  c = self_of("exec", c)
  local r = check("exec", host.db_query(c.id, sql_arg("exec", sql), params_json("exec", params)):await())
  return r.count
end

local function table_arg(call, spec)
  if type(spec) ~= "table" then fail(call, "expects a table { table = ..., ... }, got " .. type(spec)) end
  if type(spec.table) ~= "string" or spec.table == "" then
    fail(call, "table must be a table name (string), got " .. type(spec.table))
  end
  return spec.table
end

local function string_keys(call, t, what)
  for k in pairs(t) do
    if type(k) ~= "string" then fail(call, what .. " must map column names to values, got key " .. tostring(k)) end
  end
end

function Conn.seed(c, spec)
  c = self_of("seed", c)
  local name = table_arg("seed", spec)
  local call = "seed " .. name
  local rows = spec.rows
  if type(rows) ~= "table" then fail(call, "rows must be a list of rows, got " .. type(rows)) end
  local list = {}
  for i, row in ipairs(rows) do
    if type(row) ~= "table" then fail(call, "row " .. i .. " must be a table, got " .. type(row)) end
    string_keys(call, row, "row " .. i)
    local copy = {}
    for k, v in pairs(row) do copy[k] = v end
    list[i] = T.json.object(copy)
  end
  local r = check(call, host.db_seed(c.id, name, T.json.encode(T.json.array(list))):await())
  return r.count
end

function Conn.expect(c, spec)
  c = self_of("expect", c)
  local name = table_arg("expect", spec)
  local call = "expect " .. name
  local where = spec.where or {}
  if type(where) ~= "table" then fail(call, "where must be a table { column = value }, got " .. type(where)) end
  string_keys(call, where, "where")
  local count = spec.count
  if count == nil then count = -1
  elseif mtype(count) ~= "integer" or count < 0 then fail(call, "count must be a whole number >= 0, got " .. tostring(count)) end
  local file, line
  if T.frame then file, line = T.frame() else file, line = T.file, T.line() end
  local r = check(call, host.db_expect(c.id, name, T.json.encode(T.json.object(where)), count, line, file):await())
  if r.passed then return true end
  local full = (line and (file .. ":" .. line .. ": ") or "") .. r.message
  T.mark_failed(full)
  error(full, 0)
end

function Conn.close(c)
  if getmetatable(c) ~= Conn then fail("close", "call it on a connection: conn:close() or db.close()") end
  if c.closed then return end
  c.closed = true
  if current == c then current = nil end
  host.db_close(c.id):await()
end

-- db.query(...) etc.: the same on the last connection (db:query(...) works too).
for _, name in ipairs({ "query", "exec", "seed", "expect", "close" }) do
  local method = Conn[name]
  db[name] = function(first, ...)
    if first == db then return db[name](...) end
    if getmetatable(first) == Conn then return method(first, ...) end
    if current == nil then
      if name == "close" then return end
      fail(name, "not connected (call db.connect first)")
    end
    return method(current, first, ...)
  end
end

T.modules.db = db
T.globals.db = db
`,
};
