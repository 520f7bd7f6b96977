#pragma once
// Tests never sleep to synchronise: they wait for a condition, with a deadline.
//
//   REQUIRE(wait_until([&] { return probe.messages().size() == 3; }, 5s));
#include <chrono>
#include <functional>

namespace routemq::test {

// Polls `condition` until it holds (true) or `deadline` passes (false).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll = std::chrono::milliseconds(5));

}  // namespace routemq::test
