#pragma once
// The app's connection to the broker on Eclipse Paho MQTT C++ (async_client), mqtt.client: paho.
// Paho acknowledges a QoS 1/2 message when our callback returns, before it was handled: no manual
// acknowledgement exists (paho.mqtt.c#522), so the messages in flight die with the process.
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
#include "core/mqtt/mqtt_client.hpp"
#include "core/mqtt/outbound_queue.hpp"

namespace mqtt {
class async_client;
class delivery_token;
class message;
}

namespace routemq {

class PahoClient final : public MqttClient {
 public:
  PahoClient(MqttConfig config, std::vector<Subscription> subscriptions, MqttClientEvents events);
  ~PahoClient() override;  // disconnects
  PahoClient(const PahoClient&) = delete;
  PahoClient& operator=(const PahoClient&) = delete;

  // Starts connecting in the background; returns at once.
  void start() override;
  // Stops taking messages: unsubscribes every filter (waits up to `timeout`).
  void unsubscribe_all(std::chrono::milliseconds timeout) override;
  // Disconnects cleanly (waits up to `timeout`) and stops reconnecting.
  void stop(std::chrono::milliseconds timeout) override;

  // Never blocks and never throws: the message is queued for the client's sending thread (see
  // outbound_queue.hpp for why); a failure is logged and counted.
  void publish(OutboundMessage message) override;

  // Never calls into Paho: Paho's receive thread holds Paho's lock while it waits for a free
  // in-flight slot, so a worker asking Paho (for /metrics, /ready) would wait for a slot it should
  // free. Tracked from the connected and connection-lost callbacks instead.
  bool connected() const override;
  bool subscribed() const override { return subscribed_.load(); }
  const std::string& client_id() const { return client_id_; }
  const MqttClientStats& stats() const override { return stats_; }
  bool acknowledges_after_handling() const override { return false; }

 private:
  class SubscribeListener;
  void connect_until_stopped();
  void subscribe_all();
  void on_message(const std::shared_ptr<const ::mqtt::message>& message);
  void send(OutboundMessage message);  // on the sending thread
  void wait_for_publish_window();      // on the sending thread

  MqttConfig config_;
  std::string client_id_;
  std::vector<Subscription> subscriptions_;
  MqttClientEvents events_;
  MqttClientStats stats_;
  std::unique_ptr<::mqtt::async_client> client_;
  std::unique_ptr<SubscribeListener> subscribe_listener_;
  std::deque<std::shared_ptr<::mqtt::delivery_token>> unacked_;  // QoS 1/2 publishes, sending thread only
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

}  // namespace routemq
