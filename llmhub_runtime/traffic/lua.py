"""The Lua scripts of ``RedisStore``: each runs atomically on the server and reads the server's clock (``TIME``).

Keys: ``KEYS[1]`` the token totals hash, ``KEYS[2]`` the target's cooldown hash, then one key per check.
Check kinds: ``r`` requests (sliding log, member = lease), ``t`` tokens (sliding log, member =
``lease:weight``, running total in ``KEYS[1]``), ``c`` concurrency (member = lease, score = expiry),
``b`` budget (hash: period index, spent). Times are milliseconds.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "SETTLE", "SNAPSHOT"]

_COMMON = r"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end

local function period_of(kind, ms)
  local s = math.floor(ms / 1000)
  if kind == 'minute' then local p = math.floor(s / 60); return p, (p + 1) * 60000 end
  if kind == 'hour' then local p = math.floor(s / 3600); return p, (p + 1) * 3600000 end
  local day = math.floor(s / 86400)
  if kind == 'day' then return day, (day + 1) * 86400000 end
  if kind == 'week' then local p = math.floor((day + 3) / 7); return p, (p * 7 + 4) * 86400000 end
  local z = day + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return y * 12 + m - 1, days_from_civil(ny, nm, 1) * 86400000
end

local function weight_of(member)
  return tonumber(string.match(member, ':([%d%.]+)$')) or 0
end

local function token_total(sums, key, window)
  local cutoff = now - window
  local total = tonumber(redis.call('HGET', sums, key) or '0')
  local old = redis.call('ZRANGEBYSCORE', key, '-inf', cutoff)
  if #old > 0 then
    for _, member in ipairs(old) do total = total - weight_of(member) end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  end
  if total ~= 0 and redis.call('ZCARD', key) == 0 then total = 0 end
  if #old > 0 or total == 0 then redis.call('HSET', sums, key, total) end
  return total
end
"""

ACQUIRE = (
    _COMMON
    + r"""
-- ARGV: lease, cooldown on (0/1), probe ttl ms, lease ttl ms, then per check: kind, limit, window ms | period, weight
local lease = ARGV[1]
local probing = 0
if ARGV[2] == '1' then
  local c = redis.call('HMGET', KEYS[2], 'until', 'tripped', 'probe')
  local untl = tonumber(c[1]) or 0
  if now < untl then return {0, 0, untl - now} end
  if c[2] == '1' then
    local probe = tonumber(c[3]) or 0
    if probe > now then return {0, 0, probe - now} end
    probing = 1
  end
end
local n = (#ARGV - 4) / 4
for i = 1, n do
  local key, b = KEYS[i + 2], 4 + (i - 1) * 4
  local kind, limit, win, w = ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3], tonumber(ARGV[b + 4])
  if w > limit then return {0, i, -1} end
  if kind == 'r' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(win))
    local count = redis.call('ZCARD', key)
    if count + w > limit then
      local row = redis.call('ZRANGE', key, count + w - limit - 1, count + w - limit - 1, 'WITHSCORES')
      return {0, i, tonumber(row[2]) + tonumber(win) - now}
    end
  elseif kind == 't' then
    local total = token_total(KEYS[1], key, tonumber(win))
    if total + w > limit then
      local rows = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
      local freed = 0
      for j = 1, #rows, 2 do
        freed = freed + weight_of(rows[j])
        if total - freed + w <= limit then return {0, i, tonumber(rows[j + 1]) + tonumber(win) - now} end
      end
      return {0, i, -1}
    end
  elseif kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    if redis.call('ZCARD', key) + 1 > limit then return {0, i, -2} end
  else
    local period, ends = period_of(win, now)
    local row = redis.call('HMGET', key, 'period', 'spent')
    local spent = 0
    if row[1] == tostring(period) then spent = tonumber(row[2]) or 0 end
    if spent + w > limit then return {0, i, ends - now} end
  end
end
local ttl = tonumber(ARGV[4])
for i = 1, n do
  local key, b = KEYS[i + 2], 4 + (i - 1) * 4
  local kind, win, w = ARGV[b + 1], ARGV[b + 3], ARGV[b + 4]
  if kind == 'r' then
    redis.call('ZADD', key, now, lease)
    redis.call('PEXPIRE', key, tonumber(win) + ttl)
  elseif kind == 't' then
    redis.call('ZADD', key, now, lease .. ':' .. w)
    redis.call('HINCRBYFLOAT', KEYS[1], key, w)
    redis.call('PEXPIRE', key, tonumber(win) + ttl)
  elseif kind == 'c' then
    redis.call('ZADD', key, now + ttl, lease)
    redis.call('PEXPIRE', key, 2 * ttl)
  else
    local period, ends = period_of(win, now)
    if redis.call('HGET', key, 'period') ~= tostring(period) then
      redis.call('HSET', key, 'period', period, 'spent', 0)
    end
    redis.call('HINCRBYFLOAT', key, 'spent', w)
    redis.call('PEXPIREAT', key, ends + 86400000)
  end
end
if probing == 1 then redis.call('HSET', KEYS[2], 'probe', now + tonumber(ARGV[3])) end
return {1, probing, 0}
"""
)

SETTLE = (
    _COMMON
    + r"""
-- ARGV: lease, outcome (ok | fail | other), retry-after ms, cooldown failures (0: none), cooldown ms, lease ttl ms,
-- then per check: kind, window ms | period, estimate, actual
local lease, outcome = ARGV[1], ARGV[2]
local ttl = tonumber(ARGV[6])
local n = (#ARGV - 6) / 4
for i = 1, n do
  local key, b = KEYS[i + 2], 6 + (i - 1) * 4
  local kind, win, old, new = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  if kind == 'r' then
    redis.call('ZADD', key, now, lease)
    redis.call('PEXPIRE', key, tonumber(win) + ttl)
  elseif kind == 't' then
    local removed = redis.call('ZREM', key, lease .. ':' .. old)
    local delta = tonumber(new) - (removed == 1 and tonumber(old) or 0)
    redis.call('ZADD', key, now, lease .. ':' .. new)
    redis.call('HINCRBYFLOAT', KEYS[1], key, delta)
    redis.call('PEXPIRE', key, tonumber(win) + ttl)
  elseif kind == 'c' then
    redis.call('ZREM', key, lease)
  else
    local period = period_of(win, now)
    if redis.call('HGET', key, 'period') == tostring(period) then
      redis.call('HINCRBYFLOAT', key, 'spent', tonumber(new) - tonumber(old))
    end
  end
end
local threshold = tonumber(ARGV[4])
if threshold > 0 then
  local ck = KEYS[2]
  if outcome == 'ok' then
    redis.call('HDEL', ck, 'fails', 'tripped', 'probe')
  elseif outcome == 'fail' then
    local fails = redis.call('HINCRBY', ck, 'fails', 1)
    local untl = tonumber(redis.call('HGET', ck, 'until') or '0')
    local ra = tonumber(ARGV[3])
    if ra > 0 and now + ra > untl then untl = now + ra end
    if fails >= threshold then
      local cool = tonumber(ARGV[5])
      if now + cool > untl then untl = now + cool end
      redis.call('HSET', ck, 'tripped', 1)
    end
    redis.call('HSET', ck, 'until', untl)
    redis.call('HDEL', ck, 'probe')
    redis.call('PEXPIRE', ck, math.max(untl - now, 0) + 86400000)
  else
    redis.call('HDEL', ck, 'probe')
  end
end
return 1
"""
)

SNAPSHOT = (
    _COMMON
    + r"""
-- ARGV: per check: kind, window ms | period. Returns usage per check, then cooldown ms left, failures, tripped.
local out = {}
for i = 1, #ARGV / 2 do
  local key, kind, win = KEYS[i + 2], ARGV[2 * i - 1], ARGV[2 * i]
  if kind == 'r' then
    out[i] = tostring(redis.call('ZCOUNT', key, now - tonumber(win) + 1, '+inf'))
  elseif kind == 't' then
    local total = 0
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, now - tonumber(win) + 1, '+inf')) do
      total = total + weight_of(member)
    end
    out[i] = tostring(total)
  elseif kind == 'c' then
    out[i] = tostring(redis.call('ZCOUNT', key, now + 1, '+inf'))
  else
    local row = redis.call('HMGET', key, 'period', 'spent')
    out[i] = row[1] == tostring(period_of(win, now)) and (row[2] or '0') or '0'
  end
end
local c = redis.call('HMGET', KEYS[2], 'until', 'fails', 'tripped')
table.insert(out, tostring(math.max((tonumber(c[1]) or 0) - now, 0)))
table.insert(out, c[2] or '0')
table.insert(out, c[3] or '0')
return out
"""
)
