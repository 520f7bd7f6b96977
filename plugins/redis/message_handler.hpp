#pragma once
// What a Pub/Sub subscription calls with each message: its channel and payload; and the handle that
// ends one subscription. Its own header, so that the subscriber's engine does not reach up to the
// manager for them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace routemq::redis {

using MessageHandler = std::function<void(const std::string& channel, const std::string& payload)>;

// One subscribe() call: its handler on its channels (or patterns). Ending it (unsubscribe(handle))
// leaves every other handler of those channels subscribed.
struct Subscription {
  std::uint64_t id = 0;  // 0: no subscription
  std::vector<std::string> channels;
  bool pattern = false;
};

}  // namespace routemq::redis
