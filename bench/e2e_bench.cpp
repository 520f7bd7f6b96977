// bench_e2e: messages end to end through a real mosquitto. A Paho publisher (MQTT 5) sends N messages
// of 64 bytes to devices/d<k>/telemetry (1000 devices) and one receiver takes them:
//
//   --receiver bare           a Paho subscriber that only counts: the limit of publisher + broker
//   --receiver routemq        the example service's telemetry route in this process, no middleware
//   --receiver routemq_redis  the same with rate_limit + dedupe on Redis (--redis-port), limits set so
//                             nothing is limited: what the decisions cost, not what they refuse
//   --receiver none           publish only (drives a routemq process run by scripts/bench.sh)
//
//   build/bin/bench_e2e --broker-port P --receiver R [--qos 0|1] [--messages N] [--rate MSG_PER_S]
//                       [--redis-port P]
//
// Prints `RESULT name=<receiver>_qos<q> c=1 ops=<received per second> p50_us=... p99_us=... errors=<lost>`.
// Latency is from just before the publish to when the handler has finished (routemq: after the whole
// middleware chain and the handler, acks included; bare: when the callback sees the message), on one
// steady clock: everything runs in this process. Without --rate the publisher goes as fast as a window
// of 1000 outstanding publishes allows; with it, publishes are paced evenly.
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <mqtt/async_client.h>

#include "bench/flags.hpp"
#include "bench/measurement.hpp"
#include "core/app/app.hpp"
#include "core/config/app_config.hpp"
#include "middleware/register_all.hpp"
#include "routes/routes.hpp"

namespace {

using namespace std::chrono_literals;
using routemq::bench::Clock;
using routemq::bench::Measurement;
using routemq::bench::parse_number;

struct Options {
  int broker_port = 0;
  int redis_port = 0;
  std::string receiver = "bare";
  int qos = 0;
  std::size_t messages = 100000;
  double rate = 0;  // messages per second; 0: as fast as the window allows
};

constexpr std::size_t payload_size = 64;
constexpr int devices = 1000;
constexpr std::size_t publish_window = 1000;

// Arrivals: one latency slot per message index, each written once by whichever thread received it.
class Arrivals {
 public:
  explicit Arrivals(std::size_t messages) : latencies_ns_(messages, 0) {}

  // `payload` carries the index and the send time; a payload that does not parse is not counted.
  void record(std::string_view payload) {
    const auto index = field(payload, "\"msg_id\":\"");
    const auto sent_ns = field(payload, "\"t\":");
    if (!index || !sent_ns || *index >= latencies_ns_.size()) return;
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
    latencies_ns_[*index] = routemq::bench::clamp_ns(std::chrono::nanoseconds(now_ns - static_cast<long long>(*sent_ns)));
    last_arrival_ns_.store(now_ns, std::memory_order_relaxed);
    received_.fetch_add(1, std::memory_order_release);
  }
  std::size_t received() const { return received_.load(std::memory_order_acquire); }
  long long last_arrival_ns() const { return last_arrival_ns_.load(std::memory_order_relaxed); }
  std::vector<std::uint32_t> latencies() const {
    std::vector<std::uint32_t> out;
    for (auto ns : latencies_ns_)
      if (ns != 0) out.push_back(ns);
    return out;
  }

 private:
  static std::optional<std::uint64_t> field(std::string_view payload, std::string_view prefix) {
    const auto at = payload.find(prefix);
    if (at == std::string_view::npos) return std::nullopt;
    std::uint64_t value = 0;
    const char* begin = payload.data() + at + prefix.size();
    auto [end, error] = std::from_chars(begin, payload.data() + payload.size(), value);
    if (error != std::errc() || end == begin) return std::nullopt;
    return value;
  }

  std::vector<std::uint32_t> latencies_ns_;
  std::atomic<std::size_t> received_{0};
  std::atomic<long long> last_arrival_ns_{0};
};

// {"msg_id":"00000042","value":1.5,"t":<steady ns>,"p":"xx..."} padded to exactly 64 bytes.
std::string payload_for(std::size_t index, long long sent_ns) {
  std::string text = fmt::format(R"({{"msg_id":"{:08}","value":1.5,"t":{},"p":")", index, sent_ns);
  const std::size_t closing = 2;  // "}
  if (text.size() + closing < payload_size) text.append(payload_size - text.size() - closing, 'x');
  return text + "\"}";
}

long long steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::unique_ptr<mqtt::async_client> connected_client(int port, const std::string& id) {
  auto client = std::make_unique<mqtt::async_client>("tcp://127.0.0.1:" + std::to_string(port), id,
                                                     mqtt::create_options(MQTTVERSION_5, 1000000));
  auto options = mqtt::connect_options_builder()
                     .mqtt_version(MQTTVERSION_5)
                     .clean_start(true)
                     .max_inflight(65535)
                     .connect_timeout(5s)
                     .finalize();
  client->connect(options)->wait_for(10s);
  if (!client->is_connected()) throw std::runtime_error(fmt::format("cannot connect to the broker on port {}", port));
  return client;
}

// Publishes every message on `client`, at most `publish_window` outstanding; returns when all are sent.
void publish_all(mqtt::async_client& client, const Options& options) {
  std::deque<mqtt::delivery_token_ptr> outstanding;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < options.messages; ++i) {
    if (options.rate > 0) std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                                    std::chrono::duration<double>(static_cast<double>(i) / options.rate)));
    if (outstanding.size() == publish_window) {
      outstanding.front()->wait();
      outstanding.pop_front();
    }
    const auto topic = fmt::format("devices/d{}/telemetry", i % devices);
    outstanding.push_back(client.publish(mqtt::make_message(topic, payload_for(i, steady_ns()), options.qos, false)));
  }
  for (auto& token : outstanding) token->wait();
  client.disconnect()->wait_for(10s);
}

// Waits until every message arrived, or none did for 5 s (QoS 0 may lose some).
void wait_for_arrivals(const Arrivals& arrivals, std::size_t expected) {
  auto seen = arrivals.received();
  auto last_progress = Clock::now();
  while (seen < expected && Clock::now() - last_progress < 5s) {
    std::this_thread::sleep_for(5ms);
    if (const auto now = arrivals.received(); now != seen) {
      seen = now;
      last_progress = Clock::now();
    }
  }
}

// The receiver under test, started before the publisher and stopped after the last arrival.
class Receiver {
 public:
  virtual ~Receiver() = default;
};

class BareSubscriber : public Receiver {
 public:
  BareSubscriber(const Options& options, Arrivals& arrivals)
      : client_(connected_client(options.broker_port, "bench-bare-subscriber")) {
    client_->set_message_callback([&arrivals](mqtt::const_message_ptr message) {
      arrivals.record(message->get_payload_str());
    });
    client_->subscribe("devices/+/telemetry", options.qos)->wait_for(10s);
  }
  ~BareSubscriber() override { client_->disconnect()->wait_for(10s); }

 private:
  std::unique_ptr<mqtt::async_client> client_;
};

// Records each message once the rest of the chain (middleware and handler) is done with it.
struct ArrivalProbe {
  Arrivals* arrivals;
  routemq::awaitable<void> handle(routemq::Context& ctx, routemq::Next next) {
    co_await next();
    arrivals->record(ctx.payload());
  }
};

std::string app_yaml(const Options& options, bool with_redis) {
  std::string yaml = fmt::format(
      "app:\n  workers: 2\n  max_in_flight: 1000\n  log_level: warn\n"
      "mqtt:\n  broker: 127.0.0.1\n  port: {}\n  version: 5\n",
      options.broker_port);
  if (!with_redis) return yaml;
  return yaml + fmt::format(
                    "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n"
                    "routes:\n  telemetry:\n    middleware:\n"
                    "      - rate_limit: {{key: \"{{device_id}}\", rate: 1000000, period: 1, burst: 1000000}}\n"
                    "      - dedupe: {{id: \"{{device_id}}:{{payload.msg_id}}\", window: 3600}}\n",
                    options.redis_port);
}

class InProcessApp : public Receiver {
 public:
  InProcessApp(const Options& options, Arrivals& arrivals, bool with_redis) {
    std::vector<std::shared_ptr<routemq::Plugin>> plugins;
    auto redis = routemq::middleware::redis_plugin();
    if (with_redis) plugins.push_back(redis);
    auto config = routemq::load_app_config_text(app_yaml(options, with_redis), "bench_e2e.yaml",
                                                routemq::Environment(), {"redis"});
    app_ = std::make_unique<routemq::App>(std::move(config), routemq::Environment(),
                                          plugins);
    app_->use(routemq::make_middleware("arrival_probe", ArrivalProbe{&arrivals}));
    example::add_routes(*app_);
    if (with_redis) manager_ = &redis->manager();
    thread_ = std::thread([this] { app_->run(); });
    const auto deadline = Clock::now() + 15s;
    while (!(app_->mqtt_subscribed() && (!with_redis || manager_->is_connected())) && Clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (!app_->mqtt_subscribed()) throw std::runtime_error("routemq did not subscribe within 15 s");
    if (with_redis && !manager_->is_connected()) throw std::runtime_error("routemq did not reach Redis within 15 s");
  }
  ~InProcessApp() override {
    app_->stop();
    thread_.join();
  }

 private:
  routemq::redis::RedisManager* manager_ = nullptr;  // the plugin's, owned by the app
  std::unique_ptr<routemq::App> app_;
  std::thread thread_;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--broker-port") options.broker_port = static_cast<int>(parse_number(flag, value));
    else if (flag == "--redis-port") options.redis_port = static_cast<int>(parse_number(flag, value));
    else if (flag == "--messages") options.messages = static_cast<std::size_t>(parse_number(flag, value));
    else if (flag == "--rate") options.rate = static_cast<double>(parse_number(flag, value));
    else if (flag == "--receiver") options.receiver = value;
    else if (flag == "--qos" && (value == "0" || value == "1")) options.qos = value[0] - '0';
    else throw std::invalid_argument("unknown flag or bad value: " + flag + " " + value);
  }
  if (options.broker_port == 0) throw std::invalid_argument("--broker-port is required");
  if (options.receiver != "bare" && options.receiver != "routemq" && options.receiver != "routemq_redis" &&
      options.receiver != "none")
    throw std::invalid_argument("--receiver must be bare, routemq, routemq_redis or none");
  if (options.receiver == "routemq_redis" && options.redis_port == 0)
    throw std::invalid_argument("--receiver routemq_redis needs --redis-port");
  return options;
}

std::unique_ptr<Receiver> start_receiver(const Options& options, Arrivals& arrivals) {
  if (options.receiver == "bare") return std::make_unique<BareSubscriber>(options, arrivals);
  if (options.receiver == "routemq") return std::make_unique<InProcessApp>(options, arrivals, false);
  if (options.receiver == "routemq_redis") return std::make_unique<InProcessApp>(options, arrivals, true);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = parse_options(argc, argv);
    spdlog::set_level(spdlog::level::warn);
    Arrivals arrivals(options.messages);
    auto receiver = start_receiver(options, arrivals);
    auto publisher = connected_client(options.broker_port, "bench-publisher");
    const auto first_send_ns = steady_ns();
    publish_all(*publisher, options);
    if (!receiver) {
      std::printf("PUBLISHED messages=%zu seconds=%.3f\n", options.messages, static_cast<double>(steady_ns() - first_send_ns) / 1e9);
      return 0;
    }
    wait_for_arrivals(arrivals, options.messages);
    receiver.reset();

    Measurement m;
    m.name = options.receiver + "_qos" + std::to_string(options.qos);
    m.operations = arrivals.received();
    m.errors = options.messages - arrivals.received();
    m.elapsed = std::chrono::nanoseconds(arrivals.last_arrival_ns() - first_send_ns);
    m.latencies_ns = arrivals.latencies();
    const auto summary = routemq::bench::summarize(m);
    std::printf("LOADAVG %s\n", routemq::bench::load_average().c_str());
    routemq::bench::print_result_line(m, summary);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_e2e: %s\n", e.what());
    return 2;
  }
}
