#pragma once
// A test's own MQTT client (MQTT 5, Paho): publishes like a device and records what it receives, so
// tests observe the service from the outside, through a real broker.
//
//   MqttProbe probe;
//   probe.connect(broker.port());
//   probe.subscribe("devices/+/ack", 1);
//   probe.publish("devices/d1/telemetry", R"({"msg_id":"m1","value":1})", 1);
//   auto ack = probe.wait_for_topic("devices/d1/ack", 10s);   // std::optional<ReceivedMessage>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mqtt {
class async_client;
}

namespace routemq::test {

struct PublishProperties {
  std::optional<std::string> response_topic{};
  std::optional<std::string> correlation_data{};
  std::vector<std::pair<std::string, std::string>> user_properties{};
};

struct ReceivedMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<std::pair<std::string, std::string>> user_properties;
};

class MqttProbe {
 public:
  MqttProbe();
  ~MqttProbe();

  // Connects (clean start) to 127.0.0.1:port, with a username/password when given; throws when the
  // broker does not accept within 10 s.
  void connect(std::uint16_t port, const std::string& username = {}, const std::string& password = {});
  void disconnect();
  bool connected() const;
  // Waits for the SUBACK; throws when the broker refuses.
  void subscribe(const std::string& filter, int qos);
  // Waits until the publish completes (PUBACK/PUBCOMP for QoS 1/2).
  void publish(const std::string& topic, const std::string& payload, int qos, bool retain = false,
               const PublishProperties& properties = {});

  std::optional<ReceivedMessage> wait_for(const std::function<bool(const ReceivedMessage&)>& predicate,
                                          std::chrono::milliseconds deadline);
  std::optional<ReceivedMessage> wait_for_topic(const std::string& topic, std::chrono::milliseconds deadline);
  // How many received messages match, once `count` do or the deadline passes.
  std::size_t wait_count(const std::function<bool(const ReceivedMessage&)>& predicate, std::size_t count,
                         std::chrono::milliseconds deadline);
  std::vector<ReceivedMessage> messages() const;
  void clear();

 private:
  std::unique_ptr<mqtt::async_client> client_;
  mutable std::mutex mutex_;
  std::vector<ReceivedMessage> received_;
};

}  // namespace routemq::test
