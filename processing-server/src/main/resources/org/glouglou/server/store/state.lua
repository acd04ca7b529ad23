-- glouglou: one key's coalesced merge operations, applied atomically (docs/architecture.txt 6.2).
-- KEYS[1] the key (a hash), KEYS[2] its marks gg:mark:{KEY} (hash), KEYS[3] its closed contributors gg:closed:{KEY}
-- (sorted set): all three share the key's Redis Cluster slot through the hash tag {KEY}.
-- ARGV[1] TTL of the key in seconds (0: leave it), ARGV[2] mark horizon in ms, ARGV[3] rate window in ms,
-- ARGV[4] '1' when the key has marks (their TTL follows the key's), then operations:
--   S f v                 set (last writer wins)
--   N f v                 set unless present (first writer wins)
--   X f v / M f v         numeric maximum / minimum
--   C who closed k f1..fk v1..vk
--                         contributor WHO's cumulative values: add their growth over its mark to the fields, keep
--                         the larger values as its new mark; closed '1': remember when it closed, to prune its mark
--                         after the horizon
--   R rf tf               rf = growth per second of tf over the rate window (window state in the marks hash)
--   G sf s k f1 v1..      set the k fields and sf = s, unless sf holds a larger number (the newest report wins)
--   B bf b k f1 v1..      per boot: b newer than bf (unsigned decimal) replaces the fields, the same b keeps each
--                         field's maximum, an older b changes nothing
-- Numbers are exact up to 2^53 (Lua doubles); they are written back without exponent.
if redis.replicate_commands then redis.replicate_commands() end
local key, marks, closed = KEYS[1], KEYS[2], KEYS[3]
local ttl = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local hasMarks = ARGV[4] == '1'
-- Redis's clock (every server agrees on it), read only when rates or closes need it
local now = nil
local function clock()
  if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end

-- integers as text without exponent: tostring is exact below 1e14 (14 significant digits), string.format beyond
local function fmt(x)
  if x < 1e14 and x > -1e14 then return tostring(x) end
  return string.format('%.0f', x)
end
-- a > b for unsigned decimal strings of any length (boots are 64-bit)
local function newer(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
-- HMGET in slices: unpack has a limit of a few thousand values
local function hmget(k, names, into)
  local i = 1
  while i <= #names do
    local j = math.min(#names, i + 999)
    local r = redis.call('HMGET', k, unpack(names, i, j))
    for x = i, j do into[names[x]] = r[x - i + 1] end
    i = j + 1
  end
end
local function hset(k, names, values)
  local i = 1
  while i <= #names do
    local j = math.min(#names, i + 499)
    local a = {}
    for x = i, j do a[#a + 1] = names[x]; a[#a + 1] = values[names[x]] end
    redis.call('HSET', k, unpack(a))
    i = j + 1
  end
end

-- pass 1: parse, and list what must be read
local ops = {}
local want, wanted = {}, {}
local mwant, mwanted = {}, {}
local function need(f) if not wanted[f] then wanted[f] = true; want[#want + 1] = f end end
local function mneed(f) if not mwanted[f] then mwanted[f] = true; mwant[#mwant + 1] = f end end
local i, n = 5, #ARGV
while i <= n do
  local op = ARGV[i]
  if op == 'S' or op == 'N' or op == 'X' or op == 'M' then
    ops[#ops + 1] = i
    if op ~= 'S' then need(ARGV[i + 1]) end
    i = i + 3
  elseif op == 'C' then
    local k = tonumber(ARGV[i + 3])
    ops[#ops + 1] = i
    mneed(ARGV[i + 1])
    for j = 1, k do need(ARGV[i + 3 + j]) end
    i = i + 4 + 2 * k
  elseif op == 'R' then
    ops[#ops + 1] = i
    need(ARGV[i + 2]); mneed('~t'); mneed('~' .. ARGV[i + 2])
    i = i + 3
  elseif op == 'G' or op == 'B' then
    local k = tonumber(ARGV[i + 3])
    ops[#ops + 1] = i
    need(ARGV[i + 1])
    if op == 'B' then for j = 1, k do need(ARGV[i + 2 + 2 * j]) end end
    i = i + 4 + 2 * k
  else
    return redis.error_reply('glouglou state script: unknown operation ' .. tostring(op))
  end
end

local val, mval = {}, {}
if #want > 0 then hmget(key, want, val) end
if #mwant > 0 then hmget(marks, mwant, mval) end

local out, outn = {}, {}
local function put(f, v)
  if out[f] == nil then outn[#outn + 1] = f end
  out[f] = v; val[f] = v
end
local mout, moutn = {}, {}
local function mput(f, v)
  if mout[f] == nil then moutn[#moutn + 1] = f end
  mout[f] = v; mval[f] = v
end
local closedNow = {}
local rates = {}

-- pass 2: apply in order
for _, p in ipairs(ops) do
  local op = ARGV[p]
  if op == 'S' then
    put(ARGV[p + 1], ARGV[p + 2])
  elseif op == 'N' then
    if not val[ARGV[p + 1]] then put(ARGV[p + 1], ARGV[p + 2]) end
  elseif op == 'X' or op == 'M' then
    local f, v = ARGV[p + 1], tonumber(ARGV[p + 2])
    local c = tonumber(val[f])
    if v ~= nil and (c == nil or (op == 'X' and v > c) or (op == 'M' and v < c)) then put(f, ARGV[p + 2]) end
  elseif op == 'C' then
    local who, k = ARGV[p + 1], tonumber(ARGV[p + 3])
    local m = mval[who]
    if not m then
      -- a new contributor: everything it brings is growth
      local mark = {}
      for j = 1, k do
        local f, vs = ARGV[p + 3 + j], ARGV[p + 3 + k + j]
        local v = tonumber(vs) or 0
        if v > 0 then put(f, fmt((tonumber(val[f]) or 0) + v)) end
        mark[j] = vs
      end
      mput(who, table.concat(mark, ' '))
    else
      -- split on spaces with a plain find (much cheaper than a pattern), compare as text first: a value that did
      -- not move (most of them in a copy or a one-way flow) needs no number
      local prev, pos = {}, 1
      while true do
        local sp = string.find(m, ' ', pos, true)
        if not sp then prev[#prev + 1] = string.sub(m, pos); break end
        prev[#prev + 1] = string.sub(m, pos, sp - 1)
        pos = sp + 1
      end
      local changed = false
      for j = 1, k do
        local vs, ps = ARGV[p + 3 + k + j], prev[j]
        if vs ~= ps then
          local v, pv = tonumber(vs) or 0, tonumber(ps) or 0
          if v > pv then
            local f = ARGV[p + 3 + j]
            put(f, fmt((tonumber(val[f]) or 0) + v - pv))
            prev[j] = vs
            changed = true
          elseif not ps then
            prev[j] = '0'
            changed = true
          end
        end
      end
      if changed then mput(who, table.concat(prev, ' ')) end
    end
    if ARGV[p + 2] == '1' then closedNow[#closedNow + 1] = who end
  elseif op == 'R' then
    rates[#rates + 1] = p
  elseif op == 'G' then
    local sf, s, k = ARGV[p + 1], ARGV[p + 2], tonumber(ARGV[p + 3])
    local c = tonumber(val[sf])
    if c == nil or (tonumber(s) or 0) >= c then
      put(sf, s)
      for j = 1, k do put(ARGV[p + 2 + 2 * j], ARGV[p + 3 + 2 * j]) end
    end
  elseif op == 'B' then
    local bf, b, k = ARGV[p + 1], ARGV[p + 2], tonumber(ARGV[p + 3])
    local c = val[bf]
    if not c or newer(b, c) then
      put(bf, b)
      for j = 1, k do put(ARGV[p + 2 + 2 * j], ARGV[p + 3 + 2 * j]) end
    elseif c == b then
      for j = 1, k do
        local f, v = ARGV[p + 2 + 2 * j], ARGV[p + 3 + 2 * j]
        local cv = tonumber(val[f])
        if cv == nil or (tonumber(v) or 0) > cv then put(f, v) end
      end
    end
  end
end

-- rates over the shared window: the window's start and the totals at its start live in the marks hash
if #rates > 0 then
  clock()
  local ws = tonumber(mval['~t'])
  if ws == nil or now < ws then
    mput('~t', fmt(now))
    for _, p in ipairs(rates) do mput('~' .. ARGV[p + 2], val[ARGV[p + 2]] or '0') end
  elseif now - ws >= window then
    for _, p in ipairs(rates) do
      local tf = ARGV[p + 2]
      local cur = tonumber(val[tf]) or 0
      local pv = tonumber(mval['~' .. tf]) or cur
      local r = math.floor((cur - pv) * 1000 / (now - ws))
      if r < 0 then r = 0 end
      put(ARGV[p + 1], fmt(r))
      mput('~' .. tf, fmt(cur))
    end
    mput('~t', fmt(now))
  end
end

if #outn > 0 then hset(key, outn, out) end
if #moutn > 0 then hset(marks, moutn, mout) end
local mttl = math.max(ttl, math.ceil(horizon / 1000))
if #closedNow > 0 then
  clock()
  local a = {}
  for _, w in ipairs(closedNow) do a[#a + 1] = fmt(now); a[#a + 1] = w end
  local x = 1
  while x <= #a do
    local y = math.min(#a, x + 999)
    redis.call('ZADD', closed, 'NX', unpack(a, x, y))
    x = y + 1
  end
  -- marks of contributors closed more than the horizon ago: no copy of their events can come any more. Pruned when
  -- another closes, so a key's marks stay bounded by its open contributors and one horizon's worth of closes
  local old = redis.call('ZRANGEBYSCORE', closed, '-inf', fmt(now - horizon), 'LIMIT', 0, 500)
  if #old > 0 then
    redis.call('HDEL', marks, unpack(old))
    redis.call('ZREM', closed, unpack(old))
  end
  if ttl > 0 then redis.call('EXPIRE', closed, mttl) end
end
if ttl > 0 then
  redis.call('EXPIRE', key, ttl)
  if hasMarks then
    -- a mark never goes before its key: else the next copy of an old event would be added again
    redis.call('EXPIRE', marks, mttl)
  end
end
return #outn
