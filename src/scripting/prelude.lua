-- Ferrite's Lua prelude: the `redis` API, Redis 7's `pcall`, bytecode-proof `load`/`loadstring`, the
-- error handler that records where a script failed, and the read-only globals. Runs once per Lua state,
-- before `debug` is removed from the globals. Chunk name "=ferrite": the error handler skips its frames.
local bridge, h = ...
local dbg = debug
local G = _G
local type, tostring, error, select, rawset, setmetatable, getmetatable, xpcall =
    type, tostring, error, select, rawset, setmetatable, getmetatable, xpcall

-- As Redis's __redis__err__handler: a table {err=..., source=..., line=...} whatever was raised.
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=ferrite') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) == 'userdata' then
    -- An error from a Rust library function: its message, placed as luaL_error would place it.
    local m, raised, counted = h.error_message(err)
    if raised then
      err = {err = m}
      -- As Redis marks what redis.call counted already in the error statistics.
      if counted then err['ignore_error_stats_update'] = true end
    elseif m ~= nil then
      if i and i.currentline > 0 then m = i.short_src .. ':' .. i.currentline .. ': ' .. m end
      err = m
    end
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- Redis keeps its handler in this global; scripts can see (not change) it.
rawset(G, '__redis__err__handler', handler)

bridge.run = function(f)
  return xpcall(f, handler)
end

-- A function's callback gets KEYS and ARGV as its two arguments (Lua 5.1's xpcall passes none).
bridge.run_fn = function(f, keys, args)
  return xpcall(function() return f(keys, args) end, handler)
end

-- redis.call, redis.pcall and redis.setresp are set by Rust once this table exists (they act on the
-- script running on the thread); the functions that raise errors are Rust functions too, so a
-- `return redis.call(...)` tail call keeps the script's frame for the error's position, as in Redis.
local redis = {}
redis.log = h.log
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REDIS_VERSION = h.version
redis.REDIS_VERSION_NUM = h.version_num
redis.sha1hex = h.sha1hex
redis.set_repl = h.set_repl
redis.acl_check_cmd = h.acl_check_cmd
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3

redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {err = h.error_text(e)}
end

redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = s}
end

-- Scripts are always replicated by their effects since Redis 7: nothing to switch on.
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end

-- Redis 7's pcall: an error raised as a table with an `err` field is caught as its message.
do
  local pcall = pcall
  local function caught(ok, ...)
    if ok then return ok, ... end
    local e = ...
    -- SCRIPT KILL's error cannot be caught: the script must end.
    if h.killed() then error(e, 0) end
    if type(e) == 'userdata' then
      local m = h.error_message(e)
      if m ~= nil then return false, m end
    end
    if type(e) == 'table' then
      local m = e.err
      if type(m) == 'string' or type(m) == 'number' then return false, m end
    end
    return false, e
  end
  rawset(G, 'pcall', function(...) return caught(pcall(...)) end)
end

-- Redis's Lua refuses precompiled chunks: `loadstring` and `load` are Rust functions that always
-- parse text (see engine.rs).
rawset(G, 'loadstring', h.loadstring)
rawset(G, 'load', h.load)

-- Read-only tables: libraries are reached through proxies that refuse writes; globals refuse both
-- writes and reads of names that do not exist.
local function readonly()
  error('Attempt to modify a readonly table', 2)
end

local function protect(t)
  return setmetatable({}, {__index = t, __newindex = readonly, __metatable = false})
end

rawset(G, 'redis', protect(redis))
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
  local lib = G[name]
  if lib ~= nil then rawset(G, name, protect(lib)) end
end
local string_meta = getmetatable('')
string_meta.__index = G.string
string_meta.__metatable = false

rawset(G, 'debug', nil)
rawset(G, 'dofile', nil)
rawset(G, 'loadfile', nil)
rawset(G, 'print', nil)
-- Removed by Redis's later security releases (environment tampering): absent in 7.0.15/7.2.x too.
rawset(G, 'getfenv', nil)
rawset(G, 'setfenv', nil)
rawset(G, 'newproxy', nil)

setmetatable(G, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = readonly,
  __metatable = false,
})

-- Redis Functions: a library's code and its callbacks see `fenv`. While FUNCTION LOAD runs the library,
-- its reads go to the load-time API (only `redis.register_function`, `redis.log`, the log levels and
-- the version; anything else is a nonexistent global); afterwards, to the ordinary globals. Writes are
-- refused either way.
do
  local function missing(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end
  local load_redis = setmetatable({
    log = h.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = h.version,
    REDIS_VERSION_NUM = h.version_num,
  }, {__index = missing, __newindex = readonly, __metatable = false})
  -- Rust sets `register_function` here (raw) for the duration of a load.
  bridge.load_redis = load_redis
  local load_redis_proxy = setmetatable({}, {__index = load_redis, __newindex = readonly, __metatable = false})
  local load_globals = setmetatable({redis = load_redis_proxy}, {__index = missing, __newindex = readonly, __metatable = false})
  local fmeta = {__index = G, __newindex = readonly, __metatable = false}
  bridge.fenv = setmetatable({}, fmeta)
  bridge.function_mode = function(loading)
    if loading then fmeta.__index = load_globals else fmeta.__index = G end
  end
end

return redis
