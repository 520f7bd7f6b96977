// Per-key ordering without sockets: order keys over topic and parameters, and the lanes that queue a
// key's messages behind the one being handled.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "core/app/in_flight_limit.hpp"
#include "core/app/ordering.hpp"

using namespace routemq;

namespace {
Params device_params() {
  Params params;
  params.add("device_id", "d1");
  params.add("kind", "temp");
  return params;
}
}  // namespace

TEST_CASE("order keys render the topic, route parameters and literal text") {
  const std::vector<std::string> names{"device_id", "kind"};
  CHECK(OrderKey::by_topic().render("devices/d1/temp", device_params()) == "devices/d1/temp");
  CHECK(OrderKey::parse("{device_id}", names).render("devices/d1/temp", device_params()) == "d1");
  CHECK(OrderKey::parse("dev:{device_id}/{kind}", names).render("t", device_params()) == "dev:d1/temp");
}

TEST_CASE("order keys that cannot be rendered are refused when the route is built, naming the problem") {
  const std::vector<std::string> names{"device_id"};
  CHECK_THROWS_WITH(OrderKey::parse("{nope}", names),
                    "order key '{nope}': 'nope' is not a parameter of the route (expected one of: topic, device_id)");
  CHECK_THROWS_WITH(OrderKey::parse("{device_id", names), Catch::Contains("'{' without '}'"));
  CHECK_THROWS_WITH(OrderKey::parse("device_id}", names), Catch::Contains("'}' without '{'"));
  CHECK_THROWS_WITH(OrderKey::parse("a{}b", names), Catch::Contains("an empty '{}'"));
  CHECK_THROWS(OrderKey::parse("", names));
}

TEST_CASE("lanes: the first message of a key runs, later ones queue in arrival order, other keys run at once") {
  OrderedLanes<int> lanes;
  int first = 1, second = 2, third = 3, other = 10;
  CHECK(lanes.admit("a", first));       // runs now
  CHECK_FALSE(lanes.admit("a", second));  // queued
  CHECK_FALSE(lanes.admit("a", third));
  CHECK(lanes.admit("b", other));       // another key: in parallel
  CHECK(lanes.busy_keys() == 2);

  CHECK(lanes.next("a") == 2);
  int late = 4;
  CHECK_FALSE(lanes.admit("a", late));  // arrives while 2 runs: after 3
  CHECK(lanes.next("a") == 3);
  CHECK(lanes.next("a") == 4);
  CHECK_FALSE(lanes.next("a"));         // idle: the lane is gone
  CHECK(lanes.busy_keys() == 1);
  int again = 5;
  CHECK(lanes.admit("a", again));       // runs at once again
  CHECK_FALSE(lanes.next("b"));
  CHECK_FALSE(lanes.next("a"));
  CHECK(lanes.busy_keys() == 0);
}

TEST_CASE("hostile topics are order keys like any other: the longest MQTT topic, bytes that are not UTF-8, NULs") {
  const std::string longest(65535, 'x');  // the MQTT limit on a topic
  const std::string not_utf8("devices/\xff\xfe/\xc3", 12);
  const std::string with_nul("a\0b", 3);
  OrderedLanes<int> lanes;
  int one = 1, two = 2, three = 3, four = 4;
  for (const auto* topic : {&longest, &not_utf8, &with_nul}) {
    const auto key = OrderKey::by_topic().render(*topic, {});
    CHECK(key == *topic);  // byte for byte: nothing decoded, nothing cut
  }
  CHECK(lanes.admit(longest, one));
  CHECK(lanes.admit(not_utf8, two));
  CHECK(lanes.admit(with_nul, three));
  CHECK_FALSE(lanes.admit(std::string("a\0b", 3), four));  // the same key, NUL and all
  int five = 5;
  CHECK(lanes.admit("a", five));                            // "a" is another key than "a\0b"
  CHECK(lanes.next(with_nul) == 4);
}

TEST_CASE("an in-flight slot is released once, by whichever owner has it last") {
  InFlightLimit limit(2, 1000);
  REQUIRE(limit.acquire(10));
  {
    InFlightSlot slot(limit, 10);
    OrderedLanes<InFlightSlot> lanes;
    REQUIRE(limit.acquire(20));
    InFlightSlot running(limit, 20);  // a second message of the same key, already holding its slot
    CHECK(lanes.admit("k", running));
    CHECK_FALSE(lanes.admit("k", slot));  // moved into the lane: not released here
    CHECK(limit.in_flight() == 2);
    CHECK(limit.in_flight_bytes() == 30);
    auto queued = lanes.next("k");
    REQUIRE(queued);
    CHECK(limit.in_flight() == 2);
  }
  CHECK(limit.in_flight() == 0);
  CHECK(limit.in_flight_bytes() == 0);
}

TEST_CASE("in-flight bytes are bounded too, but one message of any size is let in when none is in flight") {
  InFlightLimit limit(10, 100);
  REQUIRE(limit.acquire(500));  // alone: let in, however large
  CHECK(limit.in_flight_bytes() == 500);
  std::thread waiter([&] { CHECK(limit.acquire(60)); });  // over the bound while the first is in flight
  CHECK(limit.in_flight() == 1);
  limit.release(500);
  waiter.join();
  CHECK(limit.in_flight() == 1);
  CHECK(limit.admit(90));  // admit() never waits: the native client bounds what it hands over itself
  CHECK(limit.in_flight_bytes() == 150);
  limit.close();
  CHECK_FALSE(limit.acquire(1));
  CHECK_FALSE(limit.admit(1));
}
