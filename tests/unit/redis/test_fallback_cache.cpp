// The in-process fallback cache, without Redis or a clock: bounded by entries, bytes and age, least
// recently used first, emptied once when Redis answers after an outage.
#include <catch2/catch.hpp>

#include "plugins/redis/fallback_cache.hpp"

using namespace routemq::redis;
using namespace std::chrono_literals;

namespace {

const auto t0 = FallbackCache::Clock::time_point{} + 1h;

}  // namespace

TEST_CASE("fallback cache: the least recently used value goes first when over max_entries") {
  FallbackCache cache({.max_entries = 2, .max_bytes = 1 << 20, .max_age = 1h});
  cache.put("a", "1", std::nullopt, t0);
  cache.put("b", "2", std::nullopt, t0);
  CHECK(cache.get("a", t0) == "1");  // a is now the most recently used
  cache.put("c", "3", std::nullopt, t0);
  CHECK(cache.get("b", t0) == std::nullopt);
  CHECK(cache.get("a", t0) == "1");
  CHECK(cache.get("c", t0) == "3");
  CHECK(cache.size() == 2);
}

TEST_CASE("fallback cache: max_bytes bounds keys and values together, a value too large is not kept") {
  FallbackCache cache({.max_entries = 100, .max_bytes = 1200, .max_age = 1h});
  cache.put("a", std::string(400, 'x'), std::nullopt, t0);
  cache.put("b", std::string(400, 'y'), std::nullopt, t0);
  CHECK(cache.size() == 2);
  cache.put("c", std::string(400, 'z'), std::nullopt, t0);  // three would pass 1,200 bytes with their keys
  CHECK(cache.size() == 2);
  CHECK_FALSE(cache.get("a", t0));
  CHECK(cache.bytes() <= 1200);
  cache.put("b", std::string(2000, 'w'), std::nullopt, t0);  // larger than everything: not kept, and the
  CHECK_FALSE(cache.get("b", t0));                           // older value of b is not served either
  CHECK(cache.get("c", t0));
}

TEST_CASE("fallback cache: a value is served for its TTL, never past max_age") {
  FallbackCache cache({.max_entries = 10, .max_bytes = 1 << 20, .max_age = 60s});
  cache.put("short", "v", 5s, t0);
  cache.put("long", "v", 1h, t0);
  cache.put("none", "v", std::nullopt, t0);
  CHECK(cache.get("short", t0 + 4s));
  CHECK_FALSE(cache.get("short", t0 + 5s));
  CHECK(cache.get("long", t0 + 59s));
  CHECK_FALSE(cache.get("long", t0 + 60s));
  CHECK_FALSE(cache.get("none", t0 + 61s));
  CHECK(cache.size() == 0);  // expired values are dropped as they are met
}

TEST_CASE("fallback cache: take and erase, and a new value replaces the old") {
  FallbackCache cache({.max_entries = 10, .max_bytes = 1 << 20, .max_age = 1h});
  cache.put("k", "old", std::nullopt, t0);
  cache.put("k", "new", std::nullopt, t0);
  CHECK(cache.size() == 1);
  CHECK(cache.take("k", t0) == "new");
  CHECK_FALSE(cache.get("k", t0));
  cache.put("k", "v", std::nullopt, t0);
  CHECK(cache.erase("k"));
  CHECK_FALSE(cache.erase("k"));
  CHECK(cache.bytes() == 0);
}

TEST_CASE("fallback cache: emptied once when Redis answers after an outage, not while it keeps answering") {
  FallbackCache cache({.max_entries = 10, .max_bytes = 1 << 20, .max_age = 1h});
  cache.put("read before", "v", std::nullopt, t0);
  cache.redis_answered();  // no outage seen: nothing dropped
  CHECK(cache.size() == 1);
  cache.redis_unavailable();
  cache.put("set during", "v", std::nullopt, t0);
  CHECK(cache.size() == 2);
  cache.redis_answered();  // back: what was kept may be stale there, what was set never reached it
  CHECK(cache.size() == 0);
  cache.put("read after", "v", std::nullopt, t0);
  cache.redis_answered();
  CHECK(cache.get("read after", t0));
}
