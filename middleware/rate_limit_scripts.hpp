#pragma once
// One Lua script per rate-limit strategy: each decision is atomic, takes the time from Redis (TIME,
// integer microseconds), and sets the key's expiry in the same script. Every script returns
// {allowed (0/1), remaining, retry_after_us, reset_after_us}.
#include "plugins/redis/script.hpp"

namespace routemq::middleware {

// KEYS[1] = TAT key. ARGV = emission interval us, burst, cost. GCRA: `burst` at once, then one
// per interval; a TAT in the future beyond the tolerance (the clock jumped back) is clamped.
const redis::Script& gcra_script();
// KEYS[1] = counter key (the window index is added inside). ARGV = limit, period us, cost.
const redis::Script& fixed_window_script();
// KEYS[1] = sorted set. ARGV = limit, period us, cost, unique member id. Exact: every admitted
// message is a member scored by its time.
const redis::Script& sliding_window_script();
// KEYS[1] = hash {tokens, ts}. ARGV = capacity, refill per period, period us, cost.
const redis::Script& token_bucket_script();

}  // namespace routemq::middleware
