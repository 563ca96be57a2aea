-- WhiteMagic rate limiter: one atomic check of all limits of one account, then
-- (only if every limit allows the request) one write of all of them.
-- Uses the Redis server clock. Mirrors src/gcra.rs and src/period.rs: keep in sync.
-- All times are integer microseconds (exact in Lua doubles: < 2^53).
--
-- KEYS[1]  per-minute GCRA state "<tat_us>:<interval_us>"   (wm:rl:{account}:m)
-- ARGV[1]  "check" or "reset"
-- ARGV[2]  key prefix (wm:rl:{account}); the counters are
--          <prefix>:d:YYYY-MM-DD and <prefix>:mo:YYYY-MM (same hash slot as KEYS[1])
-- ARGV[3]  per-minute limit n (0 = blocked)
-- ARGV[4]  emission interval I = floor(60 s / n) in us (0 when blocked)
-- ARGV[5]  window W = n * I in us
-- ARGV[6]  daily limit
-- ARGV[7]  monthly limit
--
-- check returns {allowed (0|1), now_us, minute_remaining, minute_reset_us,
--                day_remaining, day_reset_us, month_remaining, month_reset_us}
-- (remaining after this request when allowed; untouched state when denied).
-- reset deletes the account's current minute, day and month keys.

local MINUTE_US = 60000000
local DAY_US = 86400000000

-- Days since 1970-01-01 -> year, month, day (Howard Hinnant's civil_from_days).
local function civil_from_days(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m
  if mp < 10 then m = mp + 3 else m = mp - 9 end
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local function days_in_month(y, m)
  if m == 2 then
    if y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) then return 29 end
    return 28
  end
  if m == 4 or m == 6 or m == 9 or m == 11 then return 30 end
  return 31
end

local time = redis.call('TIME')
local secs = tonumber(time[1])
local now = secs * 1000000 + tonumber(time[2])
local day = math.floor(secs / 86400)
local y, m, d = civil_from_days(day)
local prefix = ARGV[2]
local day_key = prefix .. string.format(':d:%04d-%02d-%02d', y, m, d)
local month_key = prefix .. string.format(':mo:%04d-%02d', y, m)

if ARGV[1] == 'reset' then
  return redis.call('DEL', KEYS[1], day_key, month_key)
end

local limit = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local daily = tonumber(ARGV[6])
local monthly = tonumber(ARGV[7])

-- GCRA: available requests at effective tat (gcra.rs: Gcra::available).
local function available(tat)
  local room = now + window - tat
  if room < interval then
    return 0, interval - room
  end
  return math.min(limit, math.floor(room / interval)), interval - room % interval
end

-- Effective TAT (gcra.rs: Gcra::effective_tat), rescaling a state stored with
-- another interval: debt' = min(debt * I, W * I_old) / I_old.
local tat = now
local minute_left, minute_reset = 0, MINUTE_US
if limit > 0 then
  local stored = redis.call('GET', KEYS[1])
  if stored then
    local st, si = string.match(stored, '^(%d+):(%d+)$')
    st, si = tonumber(st), tonumber(si)
    if st and si and si > 0 and st > now then
      local debt = math.min(st - now, MINUTE_US + si)
      tat = now + math.floor(math.min(debt * interval, window * si) / si)
    end
  end
  minute_left, minute_reset = available(tat)
end

local day_count = tonumber(redis.call('GET', day_key) or '0')
local month_count = tonumber(redis.call('GET', month_key) or '0')
local day_left = math.max(daily - day_count, 0)
local month_left = math.max(monthly - month_count, 0)
local day_end = (day + 1) * DAY_US
local month_end = (day + days_in_month(y, m) - d + 1) * DAY_US

if minute_left < 1 or day_left < 1 or month_left < 1 then
  return {0, now, minute_left, minute_reset, day_left, day_end - now, month_left, month_end - now}
end

local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f:%.0f', new_tat, interval),
  'PX', math.ceil((new_tat - now) / 1000))
redis.call('INCR', day_key)
redis.call('EXPIREAT', day_key, string.format('%.0f', day_end / 1000000))
redis.call('INCR', month_key)
redis.call('EXPIREAT', month_key, string.format('%.0f', month_end / 1000000))
minute_left, minute_reset = available(new_tat)
return {1, now, minute_left, minute_reset, day_left - 1, day_end - now,
  month_left - 1, month_end - now}
