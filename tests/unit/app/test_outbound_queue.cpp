// The queue between handlers and the MQTT library: pushing never waits on sending, order is kept,
// and closing sends what is queued within its deadline and counts what it could not.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "core/mqtt/outbound_queue.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq;
using namespace std::chrono_literals;

namespace {

OutboundMessage message(int n) { return OutboundMessage{"t/" + std::to_string(n), std::to_string(n), {}}; }

}  // namespace

TEST_CASE("outbound queue: messages go out in order on the sending thread") {
  std::mutex mutex;
  std::vector<std::string> sent;
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> sent_on_caller{false};
  OutboundQueue queue(100000, [&](OutboundMessage m) {
    if (std::this_thread::get_id() == caller) sent_on_caller = true;
    std::lock_guard lock(mutex);
    sent.push_back(m.payload);
  });
  for (int i = 0; i < 500; ++i) REQUIRE(queue.push(message(i)));
  queue.close(10s);
  REQUIRE(sent.size() == 500);
  for (int i = 0; i < 500; ++i) CHECK(sent[static_cast<std::size_t>(i)] == std::to_string(i));
  CHECK_FALSE(sent_on_caller);
  CHECK(queue.dropped() == 0);
}

TEST_CASE("outbound queue: a push never waits for a sender that is stuck") {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> sent{0};
  OutboundQueue queue(100000, [&](OutboundMessage) {
    released.wait();  // the MQTT library holding its lock
    ++sent;
  });
  for (int i = 0; i < 1000; ++i) REQUIRE(queue.push(message(i)));  // would hang if push sent
  CHECK(sent == 0);
  release.set_value();
  CHECK(routemq::test::wait_until([&] { return sent == 1000; }, 10s));
}

TEST_CASE("outbound queue: close gives up at its deadline, counts what is left, refuses later pushes") {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> sent{0};
  OutboundQueue queue(100000, [&](OutboundMessage) {
    if (sent++ == 0) released.wait_for(300ms);  // the first send is slow; the rest are waiting behind it
  });
  REQUIRE(queue.push(message(0)));
  REQUIRE(routemq::test::wait_until([&] { return sent == 1; }, 10s));
  for (int i = 1; i <= 10; ++i) REQUIRE(queue.push(message(i)));
  CHECK(queue.close(10ms) == 10);  // past the deadline once the slow send returns: the ten are dropped
  CHECK(queue.close(10ms) == 0);
  CHECK(sent == 1);
  CHECK(queue.dropped() == 10);
  CHECK_FALSE(queue.push(message(99)));
  CHECK(queue.dropped() == 11);
  CHECK(queue.queued() == 0);
}

TEST_CASE("outbound queue: beyond its capacity a push is refused and counted, not buffered") {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> sent{0};
  OutboundQueue queue(5, [&](OutboundMessage) {
    released.wait();  // the broker is away
    ++sent;
  });
  REQUIRE(queue.push(message(0)));
  REQUIRE(routemq::test::wait_until([&] { return queue.queued() == 0; }, 10s));  // taken by the sender
  for (int i = 1; i <= 5; ++i) REQUIRE(queue.push(message(i)));
  CHECK_FALSE(queue.push(message(6)));
  CHECK(queue.dropped() == 1);
  release.set_value();
  CHECK(routemq::test::wait_until([&] { return sent == 6; }, 10s));
  CHECK(queue.push(message(7)));  // room again
  queue.close(10s);
  CHECK(sent == 7);
}
