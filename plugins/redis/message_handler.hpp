#pragma once
// What a Pub/Sub subscription calls with each message: its channel and payload. Its own header, so
// that the subscriber's engine does not reach up to the manager for one alias.
#include <functional>
#include <string>

namespace routemq::redis {

using MessageHandler = std::function<void(const std::string& channel, const std::string& payload)>;

}  // namespace routemq::redis
