#pragma once
// The app's connection to the broker, on Paho MQTT C++ (async_client).
//
// Paho delivers every message on its own thread: on_message must only copy and hand over. The client
// connects in the background (retrying with backoff until the broker is there), lets Paho reconnect
// automatically after a loss, and subscribes to every filter again after every (re)connect, because
// Paho does not restore subscriptions by itself.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config/app_config.hpp"
#include "core/handling/message.hpp"
#include "core/mqtt/outbound_queue.hpp"

namespace mqtt {
class async_client;
class delivery_token;
class message;
}

namespace routemq {

// With MQTT 5, subscription i of the list is sent with subscription identifier i + 1, so a received
// copy says which subscription it was sent for (a broker may send one copy per overlapping subscription).
struct Subscription {
  std::string filter;  // as sent to the broker, e.g. "$share/routemq/devices/+/telemetry"
  int qos = 0;
};

struct MqttClientEvents {
  std::function<void(InboundMessage)> on_message;  // on Paho's thread: must not block on I/O or throw
  std::function<void()> on_subscribed;             // every filter acknowledged after a (re)connect
  std::function<void(const std::string&)> on_connection_lost;
};

struct MqttClientStats {
  std::atomic<std::uint64_t> connects{0};  // successful connects, the first one included
  std::atomic<std::uint64_t> connection_losses{0};
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_failures{0};
  std::atomic<std::uint64_t> subscribe_failures{0};
};

class MqttClient {
 public:
  MqttClient(MqttConfig config, std::vector<Subscription> subscriptions, MqttClientEvents events);
  ~MqttClient();  // disconnects
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Starts connecting in the background; returns at once.
  void start();
  // Stops taking messages: unsubscribes every filter (waits up to `timeout`).
  void unsubscribe_all(std::chrono::milliseconds timeout);
  // Disconnects cleanly (waits up to `timeout`) and stops reconnecting.
  void stop(std::chrono::milliseconds timeout);

  // Never blocks and never throws: the message is queued for the client's sending thread (see
  // outbound_queue.hpp for why); a failure is logged and counted.
  void publish(OutboundMessage message);

  // Never calls into Paho: Paho's receive thread holds Paho's lock while it waits for a free
  // in-flight slot, so a worker asking Paho (for /metrics, /ready) would wait for a slot it should
  // free. Tracked from the connected and connection-lost callbacks instead.
  bool connected() const;
  bool subscribed() const { return subscribed_.load(); }
  const std::string& client_id() const { return client_id_; }
  const MqttClientStats& stats() const { return stats_; }

 private:
  class SubscribeListener;
  void connect_until_stopped();
  void subscribe_all();
  void on_message(const std::shared_ptr<const mqtt::message>& message);
  void send(OutboundMessage message);  // on the sending thread
  void wait_for_publish_window();      // on the sending thread

  MqttConfig config_;
  std::string client_id_;
  std::vector<Subscription> subscriptions_;
  MqttClientEvents events_;
  MqttClientStats stats_;
  std::unique_ptr<mqtt::async_client> client_;
  std::unique_ptr<SubscribeListener> subscribe_listener_;
  std::deque<std::shared_ptr<mqtt::delivery_token>> unacked_;  // QoS 1/2 publishes, sending thread only
  OutboundQueue outbound_{static_cast<std::size_t>(config_.max_buffered),
                          [this](OutboundMessage message) { send(std::move(message)); }};  // after client_
  std::atomic<bool> connected_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<std::size_t> pending_subacks_{0};
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  std::thread connector_;
};

// "tcp://host:port" or "ssl://host:port" for the configured broker.
std::string broker_uri(const MqttConfig& config);

}  // namespace routemq
