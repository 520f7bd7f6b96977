#pragma once
// Keys built from a message, for the middleware's decisions:
//
//   "{device_id}"            a topic parameter of the route
//   "{topic}"                the whole topic
//   "{payload.msg_id}"       a field of the JSON payload (dots walk into objects)
//   "{user.tenant}"          an MQTT 5 user property
//   "{hash}"                 a content hash of topic and payload (SHA1, hex)
//   "{response_topic}"       an MQTT 5 request's response topic
//   "{correlation_data}"     an MQTT 5 request's correlation data (bytes, in hex)
//   anything else            literal text: "dev:{device_id}:{payload.msg_id}"
//
// MQTT does not tell a subscriber which client published a message: to key by client, have clients
// send a user property (`{user.client_id}`) or put it in the topic.
//
// A template that cannot be filled for a message (no such param, field missing or not a scalar) is
// an error for that message, never a silently shared key.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/config/config_node.hpp"
#include "core/handling/context.hpp"

namespace routemq::middleware {

class KeyTemplate {
 public:
  // Throws std::invalid_argument naming the template and the problem (unbalanced braces, empty part).
  static KeyTemplate parse(std::string_view text);
  // The same for a middleware option: the error is a ConfigError located at options.<key>.
  static KeyTemplate from_option(const ConfigNode& options, std::string_view key, std::string_view text);

  // The key, or why it cannot be built for this message.
  struct Rendered {
    std::string key;
    std::string error;  // empty when key is valid
    bool ok() const { return error.empty(); }
  };
  Rendered render(Context& ctx) const;
  const std::string& text() const { return text_; }

 private:
  struct Part {
    enum class Kind { literal, param, topic, payload, user_property, hash, response_topic, correlation_data } kind;
    std::string name;  // literal text, param name, JSON path or property name
  };
  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace routemq::middleware
