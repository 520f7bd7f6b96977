#include "tests/support/received_messages.hpp"

#include <algorithm>

namespace routemq::test {

ReceivedMessages::Handler ReceivedMessages::handler(std::string label) const {
  return [shared = shared_, label = std::move(label)](const std::string& channel, const std::string& payload) {
    std::lock_guard lock(shared->mutex);
    shared->messages.push_back(label + channel + ":" + payload);
  };
}

std::vector<std::string> ReceivedMessages::all() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->messages;
}

std::size_t ReceivedMessages::size() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->messages.size();
}

bool ReceivedMessages::contains(const std::string& message) const {
  std::lock_guard lock(shared_->mutex);
  return std::find(shared_->messages.begin(), shared_->messages.end(), message) != shared_->messages.end();
}

}  // namespace routemq::test
