#include "core/mqtt/mqtt_client.hpp"

#include "core/mqtt/native_client.hpp"
#include "core/mqtt/paho_client.hpp"

namespace routemq {

std::unique_ptr<MqttClient> make_mqtt_client(const AppConfig& config, asio::io_context& io,
                                             std::vector<Subscription> subscriptions, MqttClientEvents events) {
  if (config.mqtt.client == "paho")
    return std::make_unique<PahoClient>(config.mqtt, std::move(subscriptions), std::move(events));
  return std::make_unique<NativeClient>(config, io, std::move(subscriptions), std::move(events));
}

}  // namespace routemq
