#include "tests/support/wait_until.hpp"

#include <thread>

namespace routemq::test {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace routemq::test
