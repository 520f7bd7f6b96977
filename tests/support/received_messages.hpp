#pragma once
// What a pub/sub handler received, readable from the test's thread. The handler shares the list, so
// a message that arrives after the test body has ended (a late copy of a repeated PUBLISH) still
// lands somewhere alive.
//
//   ReceivedMessages received;
//   redis.subscribe("news", received.handler());
//   REQUIRE(wait_until([&] { return received.contains("news:hello"); }, 10s));
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace routemq::test {

class ReceivedMessages {
 public:
  using Handler = std::function<void(const std::string& channel, const std::string& payload)>;

  // Records "channel:payload", after `label` when one is given (e.g. "p " for a pattern).
  Handler handler(std::string label = "") const;

  std::vector<std::string> all() const;
  std::size_t size() const;
  bool contains(const std::string& message) const;

 private:
  struct Shared {
    std::mutex mutex;
    std::vector<std::string> messages;
  };
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace routemq::test
