#include "tests/support/mqtt_probe.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include <mqtt/async_client.h>

#include "tests/support/wait_until.hpp"

namespace routemq::test {
namespace {

constexpr auto operation_timeout = std::chrono::seconds(10);

std::string unique_client_id() {
  static std::atomic<int> counter{0};
  return "probe-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

ReceivedMessage copy_of(const mqtt::message& message) {
  ReceivedMessage copy;
  copy.topic = message.get_topic();
  copy.payload = message.get_payload_str();
  copy.qos = message.get_qos();
  copy.retained = message.is_retained();
  const auto& properties = message.get_properties();
  if (properties.contains(mqtt::property::RESPONSE_TOPIC))
    copy.response_topic = mqtt::get<std::string>(properties, mqtt::property::RESPONSE_TOPIC);
  if (properties.contains(mqtt::property::CORRELATION_DATA))
    copy.correlation_data = mqtt::get<std::string>(properties, mqtt::property::CORRELATION_DATA);
  for (std::size_t i = 0; i < properties.count(mqtt::property::USER_PROPERTY); ++i) {
    auto pair = mqtt::get<mqtt::string_pair>(properties, mqtt::property::USER_PROPERTY, i);
    copy.user_properties.emplace_back(std::get<0>(pair), std::get<1>(pair));
  }
  return copy;
}

}  // namespace

MqttProbe::MqttProbe() = default;

MqttProbe::~MqttProbe() {
  try {
    disconnect();
  } catch (...) {
    // The broker may already be gone; nothing to clean up then.
  }
  client_.reset();  // before received_ and mutex_ go: the callback thread uses them
}

void MqttProbe::connect(std::uint16_t port, const std::string& username, const std::string& password) {
  // create_options(MQTTVERSION_5): set_mqtt_version later would reset the clean-start flag (Paho 1.2 trap);
  // a large buffer so bursts of publishes never throw.
  client_ = std::make_unique<mqtt::async_client>("tcp://127.0.0.1:" + std::to_string(port), unique_client_id(),
                                                 mqtt::create_options(MQTTVERSION_5, 100000));
  client_->set_message_callback([this](mqtt::const_message_ptr message) {
    auto copy = copy_of(*message);
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(copy));
  });
  auto builder = mqtt::connect_options_builder()
                     .mqtt_version(MQTTVERSION_5)
                     .clean_start(true)
                     .connect_timeout(std::chrono::seconds(5));
  if (!username.empty()) builder.user_name(username).password(password);
  const auto options = builder.finalize();
  client_->connect(options)->wait_for(operation_timeout);
  if (!client_->is_connected()) throw std::runtime_error("MqttProbe: could not connect to port " + std::to_string(port));
}

void MqttProbe::disconnect() {
  if (client_ && client_->is_connected()) client_->disconnect()->wait_for(operation_timeout);
}

bool MqttProbe::connected() const { return client_ && client_->is_connected(); }

void MqttProbe::subscribe(const std::string& filter, int qos) {
  auto token = client_->subscribe(filter, qos);
  if (!token->wait_for(operation_timeout)) throw std::runtime_error("MqttProbe: no SUBACK for " + filter);
  // One filter per SUBSCRIBE: the token's reason code is its SUBACK code. (Paho C++ 1.2's
  // get_subscribe_response() reads uninitialised memory for single-filter MQTT 5 subscriptions.)
  if (const auto code = static_cast<int>(token->get_reason_code()); code >= 0x80)
    throw std::runtime_error("MqttProbe: subscription refused for " + filter + " (reason code " +
                             std::to_string(code) + ")");
}

void MqttProbe::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                        const PublishProperties& properties) {
  auto message = mqtt::make_message(topic, payload, qos, retain);
  mqtt::properties props;
  if (properties.response_topic) props.add({mqtt::property::RESPONSE_TOPIC, *properties.response_topic});
  if (properties.correlation_data) props.add({mqtt::property::CORRELATION_DATA, *properties.correlation_data});
  for (const auto& [key, value] : properties.user_properties) props.add({mqtt::property::USER_PROPERTY, key, value});
  message->set_properties(props);
  if (!client_->publish(message)->wait_for(operation_timeout))
    throw std::runtime_error("MqttProbe: publish to " + topic + " did not complete");
}

std::optional<ReceivedMessage> MqttProbe::wait_for(const std::function<bool(const ReceivedMessage&)>& predicate,
                                                   std::chrono::milliseconds deadline) {
  std::optional<ReceivedMessage> found;
  wait_until(
      [&] {
        std::lock_guard lock(mutex_);
        auto it = std::find_if(received_.begin(), received_.end(), predicate);
        if (it != received_.end()) found = *it;
        return found.has_value();
      },
      deadline);
  return found;
}

std::optional<ReceivedMessage> MqttProbe::wait_for_topic(const std::string& topic, std::chrono::milliseconds deadline) {
  return wait_for([&](const ReceivedMessage& m) { return m.topic == topic; }, deadline);
}

std::size_t MqttProbe::wait_count(const std::function<bool(const ReceivedMessage&)>& predicate, std::size_t count,
                                  std::chrono::milliseconds deadline) {
  std::size_t matching = 0;
  wait_until(
      [&] {
        std::lock_guard lock(mutex_);
        matching = static_cast<std::size_t>(std::count_if(received_.begin(), received_.end(), predicate));
        return matching >= count;
      },
      deadline);
  return matching;
}

std::vector<ReceivedMessage> MqttProbe::messages() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void MqttProbe::clear() {
  std::lock_guard lock(mutex_);
  received_.clear();
}

}  // namespace routemq::test
