#pragma once
// Our own MQTT 3.1.1/5 client (mqtt.client: native), the Asio shell around the sans-IO session
// (session/session.hpp): it resolves, connects (TCP, or TLS through core/net's OpenSSL-over-buffers
// layer every client of the app shares), reads, writes and keeps the session's timer; the session decides
// everything else.
//
// Why our own: Paho (and libmosquitto) acknowledge a message when it arrives, before it is handled,
// and pass every message through threads of their own. Here:
// - a read of up to 64 KiB is parsed whole on the app's io_context and its messages go to the app at
//   once, with no thread hand-off; each is acknowledged (PUBACK/PUBREC) once handled, in arrival order
//   [MQTT-4.6.0-2], so a crash loses nothing the broker holds for a kept session;
// - handlers' publishes and acknowledgements are queued from their threads onto the connection's
//   strand and leave together, a burst in one socket write;
// - backpressure without blocking a thread: our Receive Maximum is app.max_in_flight, and the
//   connection stops reading while that many messages (or app.max_in_flight_bytes) are in flight.
#include <atomic>
#include <memory>
#include <vector>

#include "core/mqtt/mqtt_client.hpp"

namespace routemq {

class NativeClient final : public MqttClient {
 public:
  NativeClient(const AppConfig& config, asio::io_context& io, std::vector<Subscription> subscriptions,
               MqttClientEvents events);
  ~NativeClient() override;
  NativeClient(const NativeClient&) = delete;
  NativeClient& operator=(const NativeClient&) = delete;

  void start() override;
  void unsubscribe_all(std::chrono::milliseconds timeout) override;
  void stop(std::chrono::milliseconds timeout) override;
  void publish(OutboundMessage message) override;
  bool connected() const override;
  bool subscribed() const override;
  const MqttClientStats& stats() const override;
  bool acknowledges_after_handling() const override { return true; }

 private:
  class Connection;  // on its strand; shared with the handlers and acknowledgements that refer to it
  std::shared_ptr<Connection> connection_;
  std::atomic<bool> stopped_{false};
};

}  // namespace routemq
