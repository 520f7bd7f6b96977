// Unavailable: the one place that fails a call at once when nothing is connected, and counts it.
#include <catch2/catch.hpp>

#include "plugins/redis/connection/unavailable.hpp"

using namespace routemq::redis;

TEST_CASE("unavailable: a refused call fails as unavailable with its reason, counted once") {
  auto stats = std::make_shared<ClientStats>();
  Unavailable unavailable(stats);
  auto disabled = unavailable.refuse(Unavailable::Reason::disabled);
  CHECK(disabled.unavailable());
  CHECK(disabled.detail == "Redis is disabled (ENABLE_REDIS=false)");
  auto down = unavailable.refuse(Unavailable::Reason::not_connected);
  CHECK(down.unavailable());
  CHECK(down.detail == "Redis is not connected");
  CHECK(stats->unavailable.load() == 2);
  CHECK(stats->commands.load() == 0);
}

TEST_CASE("unavailable: a refused request is completed with the failure, and nothing else is touched") {
  auto stats = std::make_shared<ClientStats>();
  Unavailable unavailable(stats);
  std::optional<Result> seen;
  Request request{"*1\r\n$4\r\nPING\r\n", 1, [&](Result result) { seen = std::move(result); }};
  unavailable.refuse(request, Unavailable::Reason::not_connected);
  REQUIRE(seen);
  CHECK(seen->failure == Failure::unavailable);
  CHECK(stats->unavailable.load() == 1);
  Request silent{"*1\r\n$4\r\nPING\r\n", 1, {}};  // no completion: still counted
  unavailable.refuse(silent, Unavailable::Reason::not_connected);
  CHECK(stats->unavailable.load() == 2);
}
