#include <catch2/catch.hpp>

#include "core/routing/shared_subscription.hpp"
#include "core/routing/topic_pattern.hpp"

using namespace routemq;

TEST_CASE("split_shared strips the $share prefix") {
  auto shared = split_shared("$share/workers/devices/+/telemetry");
  REQUIRE(shared);
  CHECK(shared->group == "workers");
  CHECK(shared->filter == "devices/+/telemetry");
  CHECK(split_shared("$share/g/#")->filter == "#");
  CHECK_FALSE(split_shared("devices/+/telemetry"));
  CHECK_FALSE(split_shared("$SYS/broker"));
  CHECK_FALSE(split_shared("$shared/x/y"));
  CHECK(shared_filter("g", "a/+") == "$share/g/a/+");
  CHECK(split_shared(shared_filter("grp", "a/b/#"))->filter == "a/b/#");
}

TEST_CASE("split_shared rejects malformed shared filters") {
  CHECK_THROWS_WITH(split_shared("$share"), Catch::Contains("no group"));
  CHECK_THROWS_WITH(split_shared("$share//a"), Catch::Contains("'$share//a': the group name is empty"));
  CHECK_THROWS_WITH(split_shared("$share/g"), Catch::Contains("no topic filter after the group"));
  CHECK_THROWS_WITH(split_shared("$share/g/"), Catch::Contains("no topic filter after the group"));
  CHECK_THROWS_WITH(split_shared("$share/g+/a"), Catch::Contains("must not contain '+' or '#'"));
}
