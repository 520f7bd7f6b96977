#include "core/mqtt/paho_client.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

namespace routemq {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
// Paho C finds the publish each PUBACK acknowledges by walking the list of every unacknowledged one.
// With thousands outstanding that walk took most of the app's CPU (bench_e2e under perf: 60% in
// ListFindItem), so the sender keeps at most this many QoS 1/2 publishes unacknowledged.
constexpr std::size_t kPublishWindow = 256;
constexpr auto kPublishWindowPoll = std::chrono::milliseconds(50);

::mqtt::create_options create_options_for(const MqttConfig& config) {
  // Version through create_options: set_mqtt_version on the connect options resets clean-session flags.
  ::mqtt::create_options options(config.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1,
                               std::max(config.max_buffered, 1));
  options.set_send_while_disconnected(true, true);  // publishes queue during a reconnect
  return options;
}

::mqtt::ssl_options ssl_options_for(const TlsConfig& tls) {
  ::mqtt::ssl_options_builder builder;
  if (!tls.ca_file.empty()) builder.trust_store(tls.ca_file);
  if (!tls.cert_file.empty()) builder.key_store(tls.cert_file);
  if (!tls.key_file.empty()) builder.private_key(tls.key_file);
  builder.enable_server_cert_auth(tls.verify_peer).verify(tls.verify_peer);
  return builder.finalize();
}

::mqtt::connect_options connect_options_for(const MqttConfig& config) {
  ::mqtt::connect_options_builder builder;
  builder.mqtt_version(config.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);  // first: it resets flags
  if (config.version == 5)
    builder.clean_start(config.clean_start);
  else
    builder.clean_session(config.clean_start);
  builder.keep_alive_interval(std::chrono::seconds(config.keepalive_s))
      .connect_timeout(kConnectTimeout)
      .automatic_reconnect(std::chrono::milliseconds(static_cast<int>(config.reconnect_min_s * 1000)),
                           std::chrono::milliseconds(static_cast<int>(config.reconnect_max_s * 1000)))
      .max_inflight(65535);
  if (!config.will.topic.empty())
    builder.will(::mqtt::will_options(config.will.topic, config.will.payload, config.will.qos, config.will.retain));
  if (!config.username.empty()) builder.user_name(config.username);
  if (!config.password.empty()) builder.password(config.password);
  if (config.tls.enabled) builder.ssl(ssl_options_for(config.tls));
  auto options = builder.finalize();
  if (config.version == 5 && !config.clean_start) {
    // On the finished options, not the builder: Paho C++ 1.2.0's finalize() copies the options and
    // loses the builder's properties (paho.mqtt.cpp#362), and the session with them.
    ::mqtt::properties properties;  // the broker keeps the session (subscriptions, queued QoS 1/2) this long
    properties.add({::mqtt::property::SESSION_EXPIRY_INTERVAL, config.session_expiry_s});
    options.set_properties(std::move(properties));
  }
  return options;
}

InboundMessage copy_message(const ::mqtt::message& message) {
  InboundMessage copy;
  copy.topic = message.get_topic();
  copy.payload = message.get_payload_str();
  copy.qos = message.get_qos();
  copy.retained = message.is_retained();
  const auto& properties = message.get_properties();
  if (properties.empty()) return copy;
  if (properties.contains(::mqtt::property::RESPONSE_TOPIC))
    copy.response_topic = ::mqtt::get<std::string>(properties, ::mqtt::property::RESPONSE_TOPIC);
  if (properties.contains(::mqtt::property::CORRELATION_DATA))
    copy.correlation_data = ::mqtt::get<std::string>(properties, ::mqtt::property::CORRELATION_DATA);
  for (std::size_t i = 0, n = properties.count(::mqtt::property::USER_PROPERTY); i < n; ++i) {
    auto [key, value] = ::mqtt::get<::mqtt::string_pair>(properties, ::mqtt::property::USER_PROPERTY, i);
    copy.user_properties.emplace_back(std::move(key), std::move(value));
  }
  for (std::size_t i = 0, n = properties.count(::mqtt::property::SUBSCRIPTION_IDENTIFIER); i < n; ++i)
    copy.subscription_ids.push_back(
        static_cast<int>(::mqtt::get<std::uint32_t>(properties, ::mqtt::property::SUBSCRIPTION_IDENTIFIER, i)));
  return copy;
}

::mqtt::properties properties_for(const PublishOptions& options) {
  ::mqtt::properties properties;
  if (options.response_topic) properties.add({::mqtt::property::RESPONSE_TOPIC, *options.response_topic});
  if (options.correlation_data) properties.add({::mqtt::property::CORRELATION_DATA, *options.correlation_data});
  for (const auto& [key, value] : options.user_properties)
    properties.add({::mqtt::property::USER_PROPERTY, key, value});
  return properties;
}

}  // namespace

// Learns whether the broker granted every subscription after a (re)connect.
class PahoClient::SubscribeListener : public ::mqtt::iaction_listener {
 public:
  explicit SubscribeListener(PahoClient& owner) : owner_(owner) {}

  void on_success(const ::mqtt::token& token) override {
    // Each SUBSCRIBE carries one filter, so the token's reason code is its SUBACK code (Paho C++ 1.2's
    // get_subscribe_response() reads uninitialised memory for single-filter MQTT 5 subscriptions).
    const bool all_granted = static_cast<int>(token.get_reason_code()) < 0x80;
    if (!all_granted) {
      ++owner_.stats_.subscribe_failures;
      const auto topics = token.get_topics();
      spdlog::error("mqtt: the broker refused the subscription to '{}' (reason code {}); check the filter and "
                    "the broker's ACL",
                    topics && topics->size() > 0 ? (*topics)[0] : std::string("?"),
                    static_cast<int>(token.get_reason_code()));
      return;
    }
    if (--owner_.pending_subacks_ != 0) return;
    owner_.subscribed_ = true;
    spdlog::info("mqtt: subscribed to {} filter(s)", owner_.subscriptions_.size());
  }

  void on_failure(const ::mqtt::token& token) override {
    ++owner_.stats_.subscribe_failures;
    spdlog::error("mqtt: subscribe failed (code {})", token.get_return_code());
  }

 private:
  PahoClient& owner_;
};

PahoClient::PahoClient(MqttConfig config, std::vector<Subscription> subscriptions, MqttClientEvents events)
    : config_(std::move(config)),
      client_id_(config_.client_id),
      subscriptions_(std::move(subscriptions)),
      events_(std::move(events)),
      client_(std::make_unique<::mqtt::async_client>(broker_uri(config_), client_id_, create_options_for(config_),
                                                   nullptr)),
      subscribe_listener_(std::make_unique<SubscribeListener>(*this)) {
  client_->set_message_callback([this](::mqtt::const_message_ptr message) { on_message(message); });
  client_->set_connected_handler([this](const std::string&) {
    connected_ = true;
    ++stats_.connects;
    spdlog::info("mqtt: connected to {} as '{}'", broker_uri(config_), client_id_);
    const auto& will = config_.will;
    if (!will.topic.empty()) publish({will.topic, will.online_payload, {.qos = will.qos, .retain = will.retain}});
    subscribe_all();
  });
  client_->set_connection_lost_handler([this](const std::string& cause) {
    connected_ = false;
    subscribed_ = false;
    ++stats_.connection_losses;
    spdlog::warn("mqtt: connection lost{}{}; reconnecting", cause.empty() ? "" : ": ", cause);
  });
}

PahoClient::~PahoClient() { stop(std::chrono::seconds(2)); }

void PahoClient::start() {
  connector_ = std::thread([this] { connect_until_stopped(); });
}

// Paho reconnects by itself only after a first success; until then we retry, with capped backoff.
void PahoClient::connect_until_stopped() {
  std::mt19937 random(std::random_device{}());
  auto delay = std::chrono::duration<double>(config_.reconnect_min_s);
  const auto max_delay = std::chrono::duration<double>(config_.reconnect_max_s);
  while (!stopping_) {
    try {
      client_->connect(connect_options_for(config_))->wait();
      return;
    } catch (const ::mqtt::exception& e) {
      spdlog::warn("mqtt: cannot connect to {}: {}; retrying in {:.1f}s", broker_uri(config_), e.what(),
                   delay.count());
    }
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    std::unique_lock lock(stop_mutex_);
    stop_signal_.wait_for(lock, delay * jitter(random), [this] { return stopping_.load(); });
    delay = std::min(delay * 2, max_delay);
  }
}

// One SUBSCRIBE per filter: MQTT 5 allows one subscription identifier per packet.
void PahoClient::subscribe_all() {
  if (stopping_) return;
  pending_subacks_ = subscriptions_.size();
  if (subscriptions_.empty()) {
    subscribed_ = true;
    return;
  }
  for (std::size_t i = 0; i < subscriptions_.size(); ++i) {
    ::mqtt::properties properties;
    if (config_.version == 5) properties.add({::mqtt::property::SUBSCRIPTION_IDENTIFIER, static_cast<int>(i + 1)});
    // A kept session already has the subscription: retained messages only for a new one, or every
    // restart would hand the handlers each retained message again.
    const ::mqtt::subscribe_options options(false, false, ::mqtt::subscribe_options::SEND_RETAINED_ON_NEW);
    try {
      client_->subscribe(subscriptions_[i].filter, subscriptions_[i].qos, nullptr, *subscribe_listener_,
                         config_.version == 5 ? options : ::mqtt::subscribe_options(), properties);
    } catch (const ::mqtt::exception& e) {
      ++stats_.subscribe_failures;
      spdlog::error("mqtt: subscribe to '{}' failed: {}", subscriptions_[i].filter, e.what());
    }
  }
}

void PahoClient::on_message(const ::mqtt::const_message_ptr& message) {
  // On Paho's thread: anything escaping here would end the process.
  try {
    if (message && events_.on_message) events_.on_message(copy_message(*message), Acknowledgement{});
  } catch (const std::exception& e) {
    spdlog::error("mqtt: dropped a message on '{}': {}", message ? message->get_topic() : "", e.what());
  }
}

void PahoClient::publish(OutboundMessage message) {
  if (!outbound_.push(std::move(message))) {
    ++stats_.publish_failures;
    spdlog::warn("mqtt: publish dropped: the outbound queue is full (mqtt.max_buffered) or stopped");
  }
}

void PahoClient::send(OutboundMessage message) {
  try {
    auto paho = ::mqtt::message::create(std::move(message.topic), std::move(message.payload),
                                      message.options.qos, message.options.retain);
    // Most acks carry no property: building and copying an empty property list costs each of them.
    const auto& options = message.options;
    if (config_.version == 5 && (options.response_topic || options.correlation_data || !options.user_properties.empty()))
      paho->set_properties(properties_for(options));
    const bool acknowledged = message.options.qos > 0;
    if (acknowledged) wait_for_publish_window();
    auto token = client_->publish(std::move(paho));
    if (acknowledged) unacked_.push_back(std::move(token));
    ++stats_.published;
  } catch (const std::exception& e) {
    ++stats_.publish_failures;
    spdlog::warn("mqtt: publish failed: {}", e.what());
  }
}

// Waits for the oldest unacknowledged publish while the window is full, except while disconnected
// (Paho buffers those; their acks come after the reconnect) or stopping (stop's deadline rules).
void PahoClient::wait_for_publish_window() {
  while (unacked_.size() >= kPublishWindow) {
    const auto oldest = std::move(unacked_.front());
    unacked_.pop_front();
    try {
      while (!oldest->is_complete() && connected_ && !stopping_) oldest->wait_for(kPublishWindowPoll);
    } catch (const std::exception& e) {
      ++stats_.publish_failures;
      spdlog::warn("mqtt: publish failed: {}", e.what());
    }
  }
}

bool PahoClient::connected() const { return connected_; }

void PahoClient::unsubscribe_all(std::chrono::milliseconds timeout) {
  if (subscriptions_.empty() || !connected_) return;
  auto filters = std::make_shared<::mqtt::string_collection>();
  for (const auto& subscription : subscriptions_) filters->push_back(subscription.filter);
  try {
    client_->unsubscribe(filters)->wait_for(timeout);
    subscribed_ = false;
  } catch (const ::mqtt::exception& e) {
    spdlog::warn("mqtt: unsubscribe failed: {}", e.what());
  }
}

void PahoClient::stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_.exchange(true)) return;
  }
  stop_signal_.notify_all();
  if (connector_.joinable()) connector_.join();
  // A clean stop says "offline" itself: the broker drops the will on a normal disconnect.
  const auto& will = config_.will;
  if (!will.topic.empty() && connected_) publish({will.topic, will.payload, {.qos = will.qos, .retain = will.retain}});
  // What handlers published goes out before the disconnect. Refused pushes were counted by publish().
  if (const auto unsent = outbound_.close(timeout)) {
    stats_.publish_failures += unsent;
    spdlog::warn("mqtt: {} queued publish(es) not sent before stopping", unsent);
  }
  try {
    if (connected_.exchange(false)) client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
  } catch (const ::mqtt::exception& e) {
    spdlog::warn("mqtt: disconnect: {}", e.what());
  }
  try {
    client_->disable_callbacks();
  } catch (...) {
  }
}

}  // namespace routemq
