#pragma once
// Where a middleware answers a message it stops (rate_limit's "rate_limited", dedupe's "id_reused"):
// its `reject_topic` option, a key template ("devices/{device_id}/rejected"), or "response" for the
// MQTT 5 request's own response topic. Unset: nowhere, the message is only counted and logged.
#include <optional>

#include <nlohmann/json.hpp>

#include "core/config/section_reader.hpp"
#include "core/handling/context.hpp"
#include "middleware/key_template.hpp"

namespace routemq::middleware {

class Rejection {
 public:
  // Reads `reject_topic` (optional) from the middleware's options.
  static Rejection read(SectionReader& reader, const ConfigNode& options);

  // Publishes `body` (QoS 1) where the option says, adding the payload's "msg_id" when it has one, so
  // that a device can tell which of its messages was stopped.
  void send(Context& ctx, nlohmann::json body) const;

 private:
  std::optional<KeyTemplate> topic_;
  bool to_response_topic_ = false;
};

}  // namespace routemq::middleware
