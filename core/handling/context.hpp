#pragma once
// Everything a handler and its middleware know about one message, and what they can do with it.
#include <any>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/handling/context_key.hpp"
#include "core/json/bounded_json.hpp"
#include "core/handling/invalid_payload.hpp"
#include "core/handling/answers.hpp"
#include "core/handling/message.hpp"
#include "core/handling/services.hpp"
#include "core/routing/router.hpp"

namespace routemq {

// How a context sends messages: the app wires this to its MQTT client.
using PublishFunction = std::function<void(OutboundMessage)>;

class Context {
 public:
  // JSON payloads nested deeper than max_json_depth are invalid (bounded_json.hpp).
  Context(InboundMessage message, Params params, std::string route_name, PublishFunction publish,
          const Services& services, std::size_t max_json_depth = default_max_json_depth);

  // --- the message
  const std::string& topic() const { return message_.topic; }
  const Params& params() const { return params_; }
  // A named topic parameter; throws std::out_of_range naming it when the route has no such parameter.
  const std::string& param(std::string_view name) const { return params_.at(name); }
  std::string_view payload() const { return message_.payload; }
  int qos() const { return message_.qos; }
  bool retained() const { return message_.retained; }
  const std::optional<std::string>& response_topic() const { return message_.response_topic; }
  const std::optional<std::string>& correlation_data() const { return message_.correlation_data; }
  const UserProperties& user_properties() const { return message_.user_properties; }
  std::optional<std::string_view> user_property(std::string_view key) const;
  const InboundMessage& message() const { return message_; }
  const std::string& route_name() const { return route_name_; }

  // --- the payload as JSON, parsed on first use and kept.
  // Throws InvalidPayload ("payload on 'a/b' is not valid JSON: ...") when it does not parse, or
  // nests deeper than the app's max_json_depth.
  const nlohmann::json& json();
  // The parsed JSON or nullptr; json_error() then says why. Never throws.
  const nlohmann::json* try_json();
  const std::string& json_error();

  // --- values middleware passes to the handler (a rate-limit decision, a session ...), under typed
  // keys (context_key.hpp) that each middleware's header defines.
  template <class T>
  void set(const ContextKey<T>& key, T value) {
    values_.insert_or_assign(std::string(key.name), std::move(value));
  }
  // The value stored under key, or nullptr when none (or one of another type) was stored under its name.
  template <class T>
  T* get(const ContextKey<T>& key) {
    auto it = values_.find(key.name);
    return it == values_.end() ? nullptr : std::any_cast<T>(&it->second);
  }
  template <class T>
  bool has(const ContextKey<T>& key) const {
    return values_.find(key.name) != values_.end();
  }

  // --- sending. Never blocks: the MQTT client queues the message.
  void publish(std::string topic, std::string payload, PublishOptions options = {}) const;
  void publish(std::string topic, const nlohmann::json& payload, PublishOptions options = {}) const;
  // A string literal is text, not JSON (without this, "1" would be ambiguous).
  void publish(std::string topic, const char* payload, PublishOptions options = {}) const {
    publish(std::move(topic), std::string(payload), std::move(options));
  }
  // Answers an MQTT 5 request on its response topic, echoing its correlation data.
  // Returns false (and sends nothing) when the request carried no response topic.
  bool reply(std::string payload, PublishOptions options = {}) const;
  bool reply(const nlohmann::json& payload, PublishOptions options = {}) const;
  bool reply(const char* payload, PublishOptions options = {}) const {
    return reply(std::string(payload), std::move(options));
  }

  // --- answers kept for a duplicate (dedupe's `replay: true`, answers.hpp)
  // From now on, what publish() and reply() send is also kept, in order, in recorded_answers().
  void record_answers() { recording_ = true; }
  const Answers& recorded_answers() const { return recorded_; }
  // Sends answers kept for an earlier copy of this message again, each byte for byte, except that a
  // reply goes to this copy's own response topic with its own correlation data (and nowhere when this
  // copy has no response topic). Marks the message replayed: the app counts it.
  void replay(const Answers& answers);
  bool replayed() const { return replayed_; }

  // --- services the app injects
  const Services& services() const { return services_; }
  template <class T>
  T& service() const {
    return services_.get<T>();
  }

 private:
  void parse_json_once();
  void send(OutboundMessage message, bool reply) const;

  InboundMessage message_;
  Params params_;
  std::string route_name_;
  PublishFunction publish_;
  const Services& services_;
  std::size_t max_json_depth_;
  std::optional<nlohmann::json> json_;
  std::optional<std::string> json_error_;
  std::map<std::string, std::any, std::less<>> values_;
  // Kept from const publish()/reply(): recording is the context's own bookkeeping, not the message's.
  mutable Answers recorded_;
  bool recording_ = false;
  bool replayed_ = false;
};

}  // namespace routemq
