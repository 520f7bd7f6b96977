#pragma once
// The app's connection to the broker, whichever client carries it (mqtt.client):
//   native  our own (native_client.hpp): on the app's io_context, no thread between the socket and the
//           handlers, a message acknowledged only once it was handled: a crash loses nothing the
//           broker holds for the session.
//   paho    Eclipse Paho MQTT C++ (paho_client.hpp): its own threads; acknowledges a message when it
//           arrives, so messages in flight die with the process.
// Both connect in the background, reconnect with backoff, and subscribe again after every connect.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/config/app_config.hpp"
#include "core/handling/message.hpp"
#include "core/mqtt/acknowledgement.hpp"

namespace routemq {

// With MQTT 5, subscription i of the list is sent with subscription identifier i + 1, so a received
// copy says which subscription it was sent for (a broker may send one copy per overlapping subscription).
struct Subscription {
  std::string filter;  // as sent to the broker, e.g. "$share/routemq/devices/+/telemetry"
  int qos = 0;
};

struct MqttClientEvents {
  // A message, with its acknowledgement to let go of once handled. Native: on the app's io_context,
  // never more at once than app.max_in_flight (and max_in_flight_bytes). Paho: on Paho's thread.
  // Must not block on I/O or throw.
  std::function<void(InboundMessage, Acknowledgement)> on_message;
};

struct MqttClientStats {
  std::atomic<std::uint64_t> connects{0};  // successful connects, the first one included
  std::atomic<std::uint64_t> connection_losses{0};
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_failures{0};
  std::atomic<std::uint64_t> subscribe_failures{0};
  std::atomic<std::uint64_t> protocol_errors{0};     // the broker broke the protocol (native)
  std::atomic<std::uint64_t> messages_refused{0};    // larger than mqtt.max_message_bytes (native)
  // Gauges (native), refreshed as the connection works.
  std::atomic<std::uint64_t> acks_pending{0};
  std::atomic<std::uint64_t> in_flight_messages{0};
  std::atomic<std::uint64_t> in_flight_bytes{0};
  std::atomic<std::uint64_t> publishes_queued{0};
  std::atomic<std::uint64_t> publishes_in_flight{0};
};

class MqttClient {
 public:
  virtual ~MqttClient() = default;
  // Starts connecting in the background; returns at once.
  virtual void start() = 0;
  // Stops taking messages: unsubscribes every filter (waits up to `timeout`).
  virtual void unsubscribe_all(std::chrono::milliseconds timeout) = 0;
  // Sends what is queued, disconnects cleanly (waits up to `timeout`) and stops reconnecting.
  virtual void stop(std::chrono::milliseconds timeout) = 0;
  // Never blocks and never throws, from any thread; a failure is logged and counted.
  virtual void publish(OutboundMessage message) = 0;
  virtual bool connected() const = 0;
  virtual bool subscribed() const = 0;
  virtual const MqttClientStats& stats() const = 0;
  virtual bool acknowledges_after_handling() const = 0;
};

// The client mqtt.client names. `io` is the app's io_context (the native client runs on it).
std::unique_ptr<MqttClient> make_mqtt_client(const AppConfig& config, asio::io_context& io,
                                             std::vector<Subscription> subscriptions, MqttClientEvents events);

// "tcp://host:port" or "ssl://host:port" for the configured broker.
std::string broker_uri(const MqttConfig& config);

}  // namespace routemq
