#pragma once
// One Lua script per rate-limit strategy: each decision is atomic, takes the time from Redis (TIME,
// integer microseconds), and sets the key's expiry in the same script. Every script returns
// {allowed (0/1), remaining, retry_after_us, reset_after_us}.
#include "plugins/redis/script.hpp"

namespace routemq::redis {

// KEYS[1] = TAT key. ARGV = emission interval us, burst, cost. GCRA: `burst` at once, then one
// per interval; a TAT in the future beyond the tolerance (the clock jumped back) is clamped.
const Script& gcra_script();
// KEYS[1] = counter key (the window index is added inside). ARGV = limit, period us, cost.
const Script& fixed_window_script();
// KEYS[1] = sorted set. ARGV = limit, period us, cost, unique member id. Exact: every admitted
// message is a member scored by its time.
const Script& sliding_window_script();
// KEYS[1] = hash {tokens, ts}. ARGV = capacity, refill per period, period us, cost.
const Script& token_bucket_script();
// KEYS[1] = the key; ARGV = period us. Forgets a key's state (and its current fixed window).
const Script& rate_limit_reset_script();

}  // namespace routemq::redis
