-- WhiteMagic rate limiter: a batch of checks (group commit), one atomic call, on
-- the Redis server clock (read once). Mirrors src/gcra.rs and src/period.rs: keep in
-- sync. All times are integer microseconds (exact in Lua doubles: < 2^53).
--
-- A batch has one entry per (account, limits) with a request count n. For each entry
-- in turn, the n requests are decided exactly as n sequential single-request checks
-- at the same instant would be: every request consumes one unit of every limit, all
-- or nothing, and once a limit refuses one, it refuses the rest (nothing changed).
-- So the admitted count is min(n, per-minute available, daily left, monthly left),
-- written at once. The script returns the state each entry started from, from which
-- the caller derives each request's own decision with the same code as the
-- in-process limiter (src/local.rs: decide), and checks the admitted count.
--
-- Keys of an account: per-minute GCRA state "<tat_us>:<interval_us>" at
-- wm:rl:{account}:m, counters wm:rl:{account}:d:YYYY-MM-DD and :mo:YYYY-MM.
--
-- Seeds: an account without a month counter (a new month, or a Redis that lost its
-- data: restarted without persistence, flushed, failed over to an empty replica) is
-- not decided from zero. An entry without a seed is answered "unseeded" (admitted =
-- -1), with nothing changed: the caller reads the account's recorded usage and checks
-- again with it as the seed (its UTC date, day count, month count). A seed raises the
-- day and month counters to at least its counts, using only the parts for the current
-- day and month, and never lowers one; the month counter always exists afterwards.
-- (Callers also send a seed for an account they counted on their own while Redis was
-- unreachable, so that those requests count here too.)
--
-- check:  KEYS[i]  per-minute key of entry i
--         ARGV[1]  "check"
--         ARGV[2 + 10(i-1) ..] for entry i, 10 values:
--           key prefix (wm:rl:{account}; the counters are <prefix>:d:... and
--           <prefix>:mo:..., same hash slot as KEYS[i]), request count n,
--           per-minute limit (0 = blocked), emission interval I = floor(60 s / limit)
--           in us (0 when blocked), window W = limit * I in us, daily limit,
--           monthly limit, seed date YYYY-MM-DD ("" = no seed), seed day count,
--           seed month count
--   returns {now_us, then per entry: tat_us, day_count, month_count, admitted}:
--   the entry's effective TAT before its requests (rescaled to its interval;
--   now_us when nothing is outstanding or the limit is 0), the day and month
--   counts before them, and how many of its n requests were admitted (-1:
--   unseeded, see above).
-- seed:   KEYS[i] per-minute key of entry i, ARGV[1] "seed", ARGV[2 + 4(i-1) ..] for
--         entry i: key prefix, seed date, seed day count, seed month count; raises the
--         counters as a check's seed does (catching a server up with every account's
--         recorded usage, src/catch_up.rs). Returns the number of entries.
-- reset:  KEYS[1] per-minute key, ARGV[1] "reset", ARGV[2] key prefix; deletes the
--         account's per-minute state and current day and month counters.

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
local day_stamp = string.format('%04d-%02d-%02d', y, m, d)
local month_stamp = string.sub(day_stamp, 1, 7)
local day_suffix = ':d:' .. day_stamp
local month_suffix = ':mo:' .. month_stamp
local day_end = (day + 1) * DAY_US
local month_end = (day + days_in_month(y, m) - d + 1) * DAY_US
local day_expiry = string.format('%.0f', day_end / 1000000)
local month_expiry = string.format('%.0f', month_end / 1000000)

if ARGV[1] == 'reset' then
  return redis.call('DEL', KEYS[1], ARGV[2] .. day_suffix, ARGV[2] .. month_suffix)
end

-- Raises the counters of an entry to at least its seed (ARGV from `base`); returns the
-- counts as MGET would have.
local function seed(day_key, month_key, counts, base)
  local stamp = ARGV[base]
  local day_seed, month_seed = 0, 0
  if stamp == day_stamp then day_seed = tonumber(ARGV[base + 1]) end
  if string.sub(stamp, 1, 7) == month_stamp then month_seed = tonumber(ARGV[base + 2]) end
  if day_seed > tonumber(counts[1] or '0') then
    redis.call('SET', day_key, day_seed)
    redis.call('EXPIREAT', day_key, day_expiry)
    counts[1] = tostring(day_seed)
  end
  if not counts[2] or month_seed > tonumber(counts[2]) then
    redis.call('SET', month_key, month_seed)
    redis.call('EXPIREAT', month_key, month_expiry)
    counts[2] = tostring(month_seed)
  end
  return counts
end

if ARGV[1] == 'seed' then
  for i = 1, #KEYS do
    local base = 2 + (i - 1) * 4
    local day_key = ARGV[base] .. day_suffix
    local month_key = ARGV[base] .. month_suffix
    seed(day_key, month_key, redis.call('MGET', day_key, month_key), base + 1)
  end
  return #KEYS
end

local out = {now}
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 10
  local prefix = ARGV[base]
  local n = tonumber(ARGV[base + 1])
  local limit = tonumber(ARGV[base + 2])
  local interval = tonumber(ARGV[base + 3])
  local window = tonumber(ARGV[base + 4])
  local daily = tonumber(ARGV[base + 5])
  local monthly = tonumber(ARGV[base + 6])
  local day_key = prefix .. day_suffix
  local month_key = prefix .. month_suffix

  -- Effective TAT (gcra.rs: Gcra::effective_tat), rescaling a state stored with
  -- another interval: debt' = min(debt * I, W * I_old) / I_old. Then the requests
  -- available at it (gcra.rs: Gcra::available): each admitted one moves the TAT by
  -- I, so they are also how many of the n can pass the per-minute limit.
  local tat = now
  local minute_left = 0
  if limit > 0 then
    local stored = redis.call('GET', KEYS[i])
    if stored then
      local st, si = string.match(stored, '^(%d+):(%d+)$')
      st, si = tonumber(st), tonumber(si)
      if st and si and si > 0 and st > now then
        local debt = math.min(st - now, MINUTE_US + si)
        tat = now + math.floor(math.min(debt * interval, window * si) / si)
      end
    end
    local room = now + window - tat
    if room >= interval then
      minute_left = math.min(limit, math.floor(room / interval))
    end
  end

  local counts = redis.call('MGET', day_key, month_key)
  local unseeded = false
  if ARGV[base + 7] ~= '' then
    counts = seed(day_key, month_key, counts, base + 7)
  elseif not counts[2] then
    unseeded = true
  end
  local day_count = tonumber(counts[1] or '0')
  local month_count = tonumber(counts[2] or '0')
  local admitted = 0
  if unseeded then
    tat, day_count, month_count, admitted = now, 0, 0, -1
  else
    admitted = math.max(math.min(n, minute_left, daily - day_count, monthly - month_count), 0)
  end
  if admitted > 0 then
    local new_tat = tat + admitted * interval
    redis.call('SET', KEYS[i], string.format('%.0f:%.0f', new_tat, interval),
      'PX', math.ceil((new_tat - now) / 1000))
    -- A counter gets its expiry when it is created (whoever creates it sets one; the
    -- month counter exists by now, see seed).
    redis.call('INCRBY', day_key, admitted)
    if not counts[1] then redis.call('EXPIREAT', day_key, day_expiry) end
    redis.call('INCRBY', month_key, admitted)
  end
  out[#out + 1] = tat
  out[#out + 1] = day_count
  out[#out + 1] = month_count
  out[#out + 1] = admitted
end
return out
