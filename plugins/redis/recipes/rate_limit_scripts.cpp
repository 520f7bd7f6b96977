#include "plugins/redis/recipes/rate_limit_scripts.hpp"

namespace routemq::redis {
namespace {

// Shared prologue: now in integer microseconds, from the server's clock.
constexpr const char* now_us = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
)lua";

}  // namespace

const Script& gcra_script() {
  static const Script script(std::string(now_us) + R"lua(
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local dry = ARGV[4] == '1'
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat > now + tolerance then tat = now + tolerance end
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if now < allow_at then
  local remaining = math.floor((tolerance - (tat - now)) / interval)
  if remaining < 0 then remaining = 0 end
  return {0, remaining, allow_at - now, tat - now}
end
local reset_after = new_tat - now
if not dry then redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(reset_after / 1000) + 1) end
return {1, math.floor((tolerance - reset_after) / interval), 0, reset_after}
)lua");
  return script;
}

const Script& fixed_window_script() {
  static const Script script(std::string(now_us) + R"lua(
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local dry = ARGV[4] == '1'
local window = math.floor(now / period)
local key = KEYS[1] .. ':' .. window
local reset_after = (window + 1) * period - now
local used = tonumber(redis.call('GET', key) or 0)
if used + cost > limit then
  return {0, limit - used, reset_after, reset_after}
end
if dry then return {1, limit - used - cost, 0, reset_after} end
used = redis.call('INCRBY', key, cost)
redis.call('PEXPIRE', key, math.ceil(reset_after / 1000) + 1)
return {1, limit - used, 0, reset_after}
)lua");
  return script;
}

const Script& sliding_window_script() {
  static const Script script(std::string(now_us) + R"lua(
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local dry = ARGV[5] == '1'
if not dry then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period) end
local used = redis.call('ZCOUNT', KEYS[1], '(' .. (now - period), '+inf')
if used + cost > limit then
  -- Free when enough entries have left the window for `cost`: the (used + cost - limit)-th oldest.
  local needed = used + cost - limit
  local freeing = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - period), '+inf', 'WITHSCORES', 'LIMIT', needed - 1, 1)
  local retry = period
  if freeing[2] then retry = tonumber(freeing[2]) + period - now end
  return {0, limit - used, retry, retry}
end
if dry then return {1, limit - used - cost, 0, period} end
for i = 1, cost do redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000) + 1)
return {1, limit - used - cost, 0, period}
)lua");
  return script;
}

const Script& token_bucket_script() {
  static const Script script(std::string(now_us) + R"lua(
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local dry = ARGV[5] == '1'
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
if ts > now then ts = now end
tokens = math.min(capacity, tokens + (now - ts) * refill / period)
local per_token = period / refill
if tokens < cost then
  return {0, math.floor(tokens), math.ceil((cost - tokens) * per_token), math.ceil((capacity - tokens) * per_token)}
end
tokens = tokens - cost
local full_after = math.ceil((capacity - tokens) * per_token)
if dry then return {1, math.floor(tokens), 0, full_after} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(full_after / 1000) + 1)
return {1, math.floor(tokens), 0, full_after}
)lua");
  return script;
}

const Script& rate_limit_reset_script() {
  static const Script script(std::string(now_us) + R"lua(
local period = tonumber(ARGV[1])
return redis.call('DEL', KEYS[1], KEYS[1] .. ':' .. math.floor(now / period))
)lua");
  return script;
}

}  // namespace routemq::redis
