#pragma once
// Messages as plain values: what arrived from the broker, and what a handler sends.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace routemq {

using UserProperties = std::vector<std::pair<std::string, std::string>>;

// A message received from the broker, copied out of the MQTT library on its thread.
struct InboundMessage {
  std::string topic;
  std::string payload;  // bytes; not necessarily text
  int qos = 0;
  bool retained = false;
  // MQTT 5 properties (absent with MQTT 3.1.1)
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  UserProperties user_properties;
  // MQTT 5 subscription identifiers: which of our subscriptions (1-based index) this copy was sent for.
  std::vector<int> subscription_ids;
};

// Options of an outgoing publish. Designated initialisers read well: {.qos = 1, .retain = true}.
struct PublishOptions {
  int qos = 0;
  bool retain = false;
  std::optional<std::string> response_topic{};
  std::optional<std::string> correlation_data{};
  UserProperties user_properties{};
};

struct OutboundMessage {
  std::string topic;
  std::string payload;
  PublishOptions options;
};

}  // namespace routemq
