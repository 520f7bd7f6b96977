#include "core/mqtt/native_client.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <random>

#include <boost/asio/strand.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/reason_code.hpp"
#include "core/mqtt/session/session.hpp"
#include "core/net/tls_context.hpp"
#include "core/net/transport.hpp"

namespace routemq {
namespace {

using Clock = std::chrono::steady_clock;

// How long resolving, connecting and (with TLS) the handshake may take; CONNACK has its own deadline.
constexpr auto connect_timeout = std::chrono::seconds(10);

mqtt::SessionOptions session_options(const AppConfig& config, const std::vector<Subscription>& subscriptions) {
  const auto& mqtt = config.mqtt;
  mqtt::SessionOptions options;
  options.version = mqtt.version == 5 ? mqtt::Version::v5 : mqtt::Version::v311;
  options.client_id = mqtt.client_id;
  options.clean_start = mqtt.clean_start;
  options.keep_alive_s = static_cast<std::uint16_t>(mqtt.keepalive_s);
  // The broker keeps a session we asked it to keep; a clean one ends with the connection.
  options.session_expiry_s = mqtt.clean_start ? 0 : static_cast<std::uint32_t>(mqtt.session_expiry_s);
  if (!mqtt.username.empty()) options.username = mqtt.username;
  if (!mqtt.password.empty()) options.password = mqtt.password;
  if (!mqtt.will.topic.empty())
    options.will = mqtt::Will{mqtt.will.topic, mqtt.will.payload, static_cast<std::uint8_t>(mqtt.will.qos),
                              mqtt.will.retain, {}};
  for (const auto& subscription : subscriptions)
    options.subscriptions.push_back({subscription.filter, static_cast<std::uint8_t>(subscription.qos)});
  // Receive Maximum is 16 bits (3.1.2.11.3); the session also stops reading at max_in_flight.
  options.receive_maximum = static_cast<std::uint16_t>(std::clamp(config.app.max_in_flight, 1, 65535));
  options.max_in_flight_bytes = static_cast<std::size_t>(config.app.max_in_flight_bytes);
  // Our Maximum Packet Size: the largest message plus room for its topic and properties.
  options.maximum_packet_size = static_cast<std::uint32_t>(
      std::min<std::int64_t>(mqtt.max_message_bytes + 64 * 1024, mqtt::max_variable_byte_integer + 5));
  options.max_message_bytes = static_cast<std::size_t>(mqtt.max_message_bytes);
  options.max_buffered = static_cast<std::size_t>(mqtt.max_buffered);
  return options;
}

net::TransportOptions transport_options(const MqttConfig& mqtt) {
  net::TransportOptions options;
  options.host = mqtt.broker;
  options.port = mqtt.port;
  options.tls_setting = "mqtt.tls";
  options.not_tls_hint = "a plaintext MQTT port? (1883 is plaintext, 8883 TLS)";
  if (mqtt.tls.enabled) {
    net::TlsOptions tls;
    tls.ca_file = mqtt.tls.ca_file;
    tls.cert_file = mqtt.tls.cert_file;
    tls.key_file = mqtt.tls.key_file;
    tls.verify = mqtt.tls.verify_peer;
    options.tls_context = net::make_tls_context(tls, "mqtt.tls");
    options.verify = mqtt.tls.verify_peer;
  }
  return options;
}

}  // namespace

std::string broker_uri(const MqttConfig& config) {
  return fmt::format("{}://{}:{}", config.tls.enabled ? "ssl" : "tcp", config.broker, config.port);
}

// Everything below runs on the strand, but acknowledge() and publish() (through the inbox) and
// run_and_wait() (from the thread stopping the app).
class NativeClient::Connection final : public AcknowledgementTarget,
                                       public std::enable_shared_from_this<NativeClient::Connection> {
 public:
  Connection(const AppConfig& config, asio::io_context& io, std::vector<Subscription> subscriptions,
             MqttClientEvents events)
      : config_(config.mqtt),
        strand_(asio::make_strand(io)),
        transport_(strand_, transport_options(config.mqtt)),
        session_(session_options(config, subscriptions)),
        events_(std::move(events)),
        tick_timer_(strand_),
        reconnect_timer_(strand_),
        linger_timer_(strand_),
        connect_timer_(strand_),
        reconnect_delay_(config.mqtt.reconnect_min_s),
        random_(std::random_device{}()),
        subscription_count_(subscriptions.size()) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->open(); });
  }

  // From handlers, on any thread: into the inbox, which the strand empties in one go. Under load many
  // handlers finish while the strand is busy: their answers and acknowledgements then cost one post and
  // one write together, not one each.
  void acknowledge(std::uint64_t sequence) override {
    std::unique_lock lock(inbox_mutex_);
    inbox_acks_.push_back(sequence);
    wake_for_inbox(lock);
  }

  void publish(OutboundMessage message) {
    std::unique_lock lock(inbox_mutex_);
    inbox_publishes_.push_back(std::move(message));
    wake_for_inbox(lock);
  }

  // Runs `step` on the strand and waits (bounded) until the bytes it queued are written, or the
  // connection is closed. From a thread that is not the io_context's (App::run's).
  void run_and_wait(std::function<void(Connection&)> step, std::chrono::milliseconds timeout) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    asio::post(strand_, [self = shared_from_this(), step = std::move(step), done]() mutable {
      step(*self);
      self->when_flushed(done);
    });
    if (finished.wait_for(timeout) != std::future_status::ready)
      spdlog::warn("mqtt: the broker did not take our last packets within {} ms", timeout.count());
  }

  // Says goodbye: "offline" on the status topic, DISCONNECT, and no reconnecting.
  void begin_stop() {
    stopping_ = true;
    reconnect_timer_.cancel();
    const auto& will = config_.will;
    if (!will.topic.empty() && session_.connected())
      send({will.topic, will.payload, {.qos = will.qos, .retain = will.retain}});
    if (open_) session_.disconnect(mqtt::reason::success);
    process_events();
    flush();
  }

  void finish_stop() {
    asio::post(strand_, [self = shared_from_this()] {
      self->tick_timer_.cancel();
      self->reconnect_timer_.cancel();
      self->linger_timer_.cancel();
      self->connect_timer_.cancel();
      if (self->open_) self->close_transport();
      self->notify_flush_waiters();
    });
  }

  // Stops taking messages (a clean session's stop): UNSUBSCRIBE for every filter.
  void unsubscribe() {
    session_.unsubscribe_all();
    subscribed_ = false;
    after_session_step();
  }

  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  bool subscribed() const { return subscribed_.load(std::memory_order_relaxed); }
  MqttClientStats& stats() { return stats_; }

 private:
  // --- connecting
  // Resolving and connecting are bounded: a broker that drops our SYN would hold a connect for the
  // kernel's minutes. Past the deadline the attempt is closed and counts as failed.
  void open() {
    if (stopping_) return;
    connect_timer_.expires_after(connect_timeout);
    connect_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (error) return;
      self->timed_out_while_ = self->transport_.stage();
      self->transport_.close();  // async_open's handler then reports the failure
    });
    transport_.async_open([self = shared_from_this()](const std::string& failure) { self->opened(failure); });
  }

  void opened(const std::string& failure) {
    connect_timer_.cancel();
    const char* timed_out_while = std::exchange(timed_out_while_, nullptr);
    if (stopping_) return transport_.close();
    if (!failure.empty()) {
      spdlog::warn("mqtt: cannot connect to {}: {}; retrying in {:.1f}s", broker_uri(config_),
                   timed_out_while ? fmt::format("no connection within {} s (still {})", connect_timeout.count(),
                                                 timed_out_while)
                                   : failure,
                   reconnect_delay_.count());
      return schedule_reconnect();
    }
    open_ = true;
    session_.connection_opened(Clock::now());
    after_session_step();
  }

  // Capped exponential backoff with jitter, so a fleet of instances does not return all at once.
  void schedule_reconnect() {
    if (stopping_) return;
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    reconnect_timer_.expires_after(
        std::chrono::duration_cast<Clock::duration>(reconnect_delay_ * jitter(random_)));
    reconnect_delay_ = std::min(reconnect_delay_ * 2, std::chrono::duration<double>(config_.reconnect_max_s));
    reconnect_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (!error) self->open();
    });
  }

  // --- after anything the session was told: its events, its bytes, reading on or paused, its timer
  void after_session_step() {
    process_events();
    flush();
    read();
    arm_tick();
    refresh_gauges();
  }

  void process_events() {
    while (auto event = session_.next_event()) std::visit([this](auto& e) { on(e); }, *event);
  }

  void on(mqtt::Connected& connected) {
    reconnect_delay_ = std::chrono::duration<double>(config_.reconnect_min_s);
    connected_ = true;
    ++stats_.connects;
    spdlog::info("mqtt: connected to {} as '{}' (MQTT {}, session present: {}, broker's receive maximum {})",
                 broker_uri(config_), config_.client_id, config_.version == 5 ? "5" : "3.1.1",
                 connected.server.session_present, connected.server.receive_maximum);
    // The status topic's "online": queued now, written with the SUBSCRIBEs by the step under way.
    const auto& will = config_.will;
    if (will.topic.empty()) return;
    if (session_.publish({will.topic, will.online_payload, {.qos = will.qos, .retain = will.retain}}))
      ++stats_.published;
  }

  void on(mqtt::ConnectRefused& refused) {
    spdlog::error("mqtt: the broker {} refused the connection: {}", broker_uri(config_), refused.why);
  }

  void on(mqtt::Subscribed& subscribed) {
    for (const auto& [filter, code] : subscribed.refused) {
      ++stats_.subscribe_failures;
      spdlog::error("mqtt: the broker refused the subscription to '{}' ({}); check the filter and the broker's ACL",
                    filter, mqtt::reason_name(code));
    }
    if (!subscribed.refused.empty()) return;
    subscribed_ = true;
    spdlog::info("mqtt: subscribed to {} filter(s)", subscription_count_);
  }

  void on(mqtt::MessageArrived& arrived) {
    Acknowledgement acknowledgement(weak_from_this(), arrived.sequence);
    try {
      events_.on_message(std::move(arrived.message), std::move(acknowledgement));
    } catch (const std::exception& e) {  // on the io_context: nothing may escape
      spdlog::error("mqtt: dropped a message: {}", e.what());
    }
  }

  void on(mqtt::PublishRefused& refused) {
    ++stats_.publish_failures;
    spdlog::warn("mqtt: publish to '{}' refused: {}", refused.message.topic, refused.why);
  }

  void on(mqtt::MessageRefused& refused) {
    ++stats_.messages_refused;
    spdlog::warn("mqtt: refused a message on '{}' of {} bytes: larger than mqtt.max_message_bytes ({}); "
                 "acknowledged and dropped",
                 refused.topic, refused.size, config_.max_message_bytes);
  }

  void on(mqtt::ReceiveMaximumOverrun& overrun) {
    spdlog::warn("mqtt: the broker sent more than our Receive Maximum ({}) of unacknowledged messages; taking "
                 "them, and reading no more until the app has room",
                 overrun.receive_maximum);
  }

  void on(mqtt::Closed& closed) {
    if (closed.protocol_error) ++stats_.protocol_errors;
    if (!stopping_) spdlog::warn("mqtt: closing the connection to {}: {}", broker_uri(config_), closed.why);
    close_after_flush_ = true;
  }

  // --- the inbox
  void wake_for_inbox(std::unique_lock<std::mutex>& lock) {
    if (std::exchange(inbox_posted_, true)) return;
    lock.unlock();
    asio::post(strand_, [self = shared_from_this()] { self->empty_inbox(); });
  }

  // A handler's answers were put in before its acknowledgement: all publishes go first, so each
  // answer still precedes the PUBACK of the message it answers.
  void empty_inbox() {
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_posted_ = false;
      publishes_taken_.swap(inbox_publishes_);
      acks_taken_.swap(inbox_acks_);
    }
    for (auto& message : publishes_taken_)
      if (session_.publish(std::move(message))) ++stats_.published;
    for (const auto sequence : acks_taken_) session_.handled(sequence);
    publishes_taken_.clear();
    acks_taken_.clear();
    after_session_step();
  }

  // --- writing: one write at a time; what piles up meanwhile leaves with the next
  void send(OutboundMessage message) {
    if (session_.publish(std::move(message))) ++stats_.published;
    after_session_step();
  }

  void flush() {
    if (writing_ || !open_) return;
    if (!session_.has_outgoing()) {
      if (close_after_flush_) linger_then_close();
      else notify_flush_waiters();
      return;
    }
    session_.take_outgoing(write_buffer_);
    writing_ = true;
    transport_.async_write(write_buffer_, [self = shared_from_this(), generation = generation_](
                                              boost::system::error_code error, std::size_t) {
      if (generation != self->generation_) return;  // a closed connection's, cancelled
      self->writing_ = false;
      if (error) return self->connection_lost(error.message());
      self->flush();
      self->read();  // a pause in reading may have ended while the write was out
    });
  }

  void when_flushed(std::shared_ptr<std::promise<void>> done) {
    flush_waiters_.push_back(std::move(done));
    if (!open_ || (!writing_ && !session_.has_outgoing())) notify_flush_waiters();
  }
  void notify_flush_waiters() {
    for (auto& waiter : flush_waiters_) waiter->set_value();
    flush_waiters_.clear();
  }

  // Our last bytes (a DISCONNECT) are written: FIN, then read and drop what the broker still sends until
  // its end (it closes after a DISCONNECT [MQTT-3.14.4-1]), at most a second. Closing at once, with its
  // acknowledgements unread, would reset the connection, and the broker could lose our last PUBLISHes.
  void linger_then_close() {
    if (lingering_) return;
    lingering_ = true;
    transport_.shutdown_sending();
    linger_timer_.expires_after(std::chrono::seconds(1));
    linger_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (!error && self->lingering_) self->connection_lost("closed by us");
    });
    if (!reading_) drain_until_end();  // else the read out now carries on draining
  }

  void drain_until_end() {
    reading_ = true;
    transport_.async_read([self = shared_from_this(), generation = generation_](boost::system::error_code error,
                                                                                 std::string_view) {
      if (generation != self->generation_) return;
      self->reading_ = false;
      if (error) return self->connection_lost("closed by us");
      self->drain_until_end();
    });
  }

  // --- reading: one read at a time, none while the session wants no more
  void read() {
    if (reading_ || !open_ || close_after_flush_ || !session_.wants_to_read()) return;
    reading_ = true;
    transport_.async_read([self = shared_from_this(), generation = generation_](boost::system::error_code error,
                                                                                 std::string_view bytes) {
      if (generation != self->generation_) return;
      self->reading_ = false;
      if (self->lingering_) return error ? self->connection_lost("closed by us") : self->drain_until_end();
      if (error) return self->connection_lost(error == asio::error::eof ? "the broker closed the connection"
                                                                         : error.message());
      self->session_.bytes_received(bytes, Clock::now());
      self->after_session_step();
    });
  }

  // --- the session's timer (keep alive, CONNACK deadline): armed for its next deadline
  void arm_tick() {
    const auto next = session_.next_tick();
    if (next == Clock::time_point::max() || (tick_armed_ && next >= tick_at_)) return;
    tick_armed_ = true;
    tick_at_ = next;
    tick_timer_.expires_at(next);
    tick_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (error) return;  // re-armed earlier, or stopping
      self->tick_armed_ = false;
      self->session_.tick(Clock::now());
      self->after_session_step();
    });
  }

  // --- losing the connection
  void connection_lost(const std::string& why) {
    if (!open_) return;
    close_transport();
    const bool was_connected = connected_.exchange(false);
    subscribed_ = false;
    if (was_connected) ++stats_.connection_losses;
    if (!stopping_) spdlog::warn("mqtt: connection to {} lost: {}; reconnecting", broker_uri(config_), why);
    notify_flush_waiters();
    refresh_gauges();
    schedule_reconnect();
  }

  void close_transport() {
    ++generation_;  // what the closed socket's operations still report is not this connection's
    reading_ = false;
    writing_ = false;
    open_ = false;
    close_after_flush_ = false;
    lingering_ = false;
    linger_timer_.cancel();
    transport_.close();
    session_.connection_closed();
    tick_timer_.cancel();
    tick_armed_ = false;
    process_events();  // what closing said (nothing to send: the socket is gone)
  }

  void refresh_gauges() {
    const auto counts = session_.counts();
    stats_.acks_pending.store(counts.acks_pending, std::memory_order_relaxed);
    stats_.in_flight_messages.store(counts.in_flight_messages, std::memory_order_relaxed);
    stats_.in_flight_bytes.store(counts.in_flight_bytes, std::memory_order_relaxed);
    stats_.publishes_queued.store(counts.publishes_queued, std::memory_order_relaxed);
    stats_.publishes_in_flight.store(counts.publishes_in_flight, std::memory_order_relaxed);
  }

  MqttConfig config_;
  asio::strand<asio::io_context::executor_type> strand_;
  net::Transport transport_;
  mqtt::Session session_;
  MqttClientEvents events_;
  MqttClientStats stats_;
  asio::steady_timer tick_timer_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer linger_timer_;
  asio::steady_timer connect_timer_;  // bounds the wait for the broker's end after our last bytes
  std::chrono::duration<double> reconnect_delay_;
  std::mt19937 random_;
  std::size_t subscription_count_;
  std::string write_buffer_;  // being written; untouched until its write completes
  std::vector<std::shared_ptr<std::promise<void>>> flush_waiters_;
  std::mutex inbox_mutex_;  // guards the three below; handlers' threads put in, the strand takes out
  std::vector<OutboundMessage> inbox_publishes_;
  std::vector<std::uint64_t> inbox_acks_;
  bool inbox_posted_ = false;  // an empty_inbox() is on its way
  std::vector<OutboundMessage> publishes_taken_;  // the strand's, swapped with the inbox (capacity kept)
  std::vector<std::uint64_t> acks_taken_;
  Clock::time_point tick_at_{};
  bool tick_armed_ = false;
  std::uint64_t generation_ = 0;  // one per connection attempt's socket
  bool open_ = false;      // the transport is open (CONNECT sent or about to be)
  bool reading_ = false;
  bool writing_ = false;
  bool close_after_flush_ = false;  // the session said Closed: write what it left, then close
  bool lingering_ = false;          // written, FIN sent: waiting for the broker's end
  bool stopping_ = false;
  const char* timed_out_while_ = nullptr;  // the stage the connect deadline closed the attempt in
  std::atomic<bool> connected_{false};   // read by /ready and /metrics from any thread
  std::atomic<bool> subscribed_{false};
};

NativeClient::NativeClient(const AppConfig& config, asio::io_context& io, std::vector<Subscription> subscriptions,
                           MqttClientEvents events)
    : connection_(std::make_shared<Connection>(config, io, std::move(subscriptions), std::move(events))) {}

NativeClient::~NativeClient() { stop(std::chrono::seconds(2)); }

void NativeClient::start() { connection_->start(); }

void NativeClient::unsubscribe_all(std::chrono::milliseconds timeout) {
  connection_->run_and_wait([](Connection& connection) { connection.unsubscribe(); }, timeout);
}

void NativeClient::stop(std::chrono::milliseconds timeout) {
  if (stopped_.exchange(true)) return;
  connection_->run_and_wait([](Connection& connection) { connection.begin_stop(); }, timeout);
  connection_->finish_stop();
}

void NativeClient::publish(OutboundMessage message) { connection_->publish(std::move(message)); }
bool NativeClient::connected() const { return connection_->connected(); }
bool NativeClient::subscribed() const { return connection_->subscribed(); }
const MqttClientStats& NativeClient::stats() const { return connection_->stats(); }

}  // namespace routemq
