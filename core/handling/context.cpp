#include "core/handling/context.hpp"

#include <fmt/format.h>

namespace routemq {

Context::Context(InboundMessage message, Params params, std::string route_name, PublishFunction publish,
                 const Services& services, std::size_t max_json_depth)
    : message_(std::move(message)),
      params_(std::move(params)),
      route_name_(std::move(route_name)),
      publish_(std::move(publish)),
      services_(services),
      max_json_depth_(max_json_depth) {}

std::optional<std::string_view> Context::user_property(std::string_view key) const {
  for (const auto& [name, value] : message_.user_properties)
    if (name == key) return value;
  return std::nullopt;
}

void Context::parse_json_once() {
  if (json_ || json_error_) return;
  auto parsed = parse_json(message_.payload, max_json_depth_);
  if (parsed.value)
    json_ = std::move(parsed.value);
  else
    json_error_ = std::move(parsed.error);
}

const nlohmann::json* Context::try_json() {
  parse_json_once();
  return json_ ? &*json_ : nullptr;
}

const std::string& Context::json_error() {
  static const std::string none;
  parse_json_once();
  return json_error_ ? *json_error_ : none;
}

const nlohmann::json& Context::json() {
  if (const auto* value = try_json()) return *value;
  throw InvalidPayload(fmt::format("payload on '{}' is not valid JSON: {}", topic(), *json_error_));
}

void Context::publish(std::string topic, std::string payload, PublishOptions options) const {
  send(OutboundMessage{std::move(topic), std::move(payload), std::move(options)}, false);
}

void Context::send(OutboundMessage message, bool reply) const {
  if (recording_) recorded_.push_back({message, reply});
  publish_(std::move(message));
}

namespace {
// A handler's JSON may carry bytes that are not UTF-8 (an error message quoting a hostile payload):
// they are sent as U+FFFD instead of throwing out of the handler after its work is done.
std::string dump_lenient(const nlohmann::json& payload) {
  return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

void Context::publish(std::string topic, const nlohmann::json& payload, PublishOptions options) const {
  publish(std::move(topic), dump_lenient(payload), std::move(options));
}

bool Context::reply(std::string payload, PublishOptions options) const {
  if (!message_.response_topic) return false;
  if (!options.correlation_data) options.correlation_data = message_.correlation_data;
  send(OutboundMessage{*message_.response_topic, std::move(payload), std::move(options)}, true);
  return true;
}

bool Context::reply(const nlohmann::json& payload, PublishOptions options) const {
  return reply(dump_lenient(payload), std::move(options));
}

void Context::replay(const Answers& answers) {
  replayed_ = true;
  for (const auto& [message, reply] : answers) {
    if (!reply) {
      send(message, false);
      continue;
    }
    if (!message_.response_topic) continue;  // this copy asked for no answer
    auto options = message.options;
    options.correlation_data = message_.correlation_data;
    send(OutboundMessage{*message_.response_topic, message.payload, std::move(options)}, true);
  }
}

}  // namespace routemq
