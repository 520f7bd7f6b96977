// kill -9 under load with a kept session: the example service (real binary, real mosquitto and
// redis-server) is killed while QoS 1 readings stream in, then started again. With the native client a
// reading is acknowledged only once handled, so every reading the broker accepted is handled after the
// restart (the broker delivers the unacknowledged ones again), and each exactly once: dedupe takes over
// the claims the dead process left (same client id, another incarnation), and its "done" marker rode
// in the handler's own pipeline, so no reading was stored without it. Every reading is answered at
// least once: a copy of a reading handled before the kill gets its ack again (dedupe's replay), and one
// whose work landed but whose answers were not yet kept is answered again from the replies kept with
// the work (run as one script), without storing it twice.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "tests/support/app_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

constexpr int devices = 6;
constexpr int readings_per_device = 1000;

// config/app.yaml with the rate limit raised so that nothing is refused: every reading must be counted.
std::string unlimited_example_config(const TempDir& dir) {
  std::ifstream in(example_config());
  std::stringstream text;
  text << in.rdbuf();
  auto yaml = text.str();
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"rate: 10\n", "rate: 1000000\n"},
                                 {"burst: 20\n", "burst: 1000000\n"}}) {
    const auto at = yaml.find(from);
    REQUIRE(at != std::string::npos);
    yaml.replace(at, from.size(), to);
  }
  const auto path = dir / "app.yaml";
  std::ofstream(path) << yaml;
  return path.string();
}

long long count_of(const RedisServer& redis, int device) {
  const auto reply = redis.command({"GET", fmt::format("routemq:device:d{}:telemetry_count", device)});
  return reply.starts_with("$") && reply != "$-1\r\n" ? std::stoll(reply.substr(reply.find("\r\n") + 2)) : 0;
}

long long total_count(const RedisServer& redis) {
  long long total = 0;
  for (int d = 1; d <= devices; ++d) total += count_of(redis, d);
  return total;
}

// Waits until the total stops moving for a while (bounded), and returns it.
long long settled_total(const RedisServer& redis, std::chrono::seconds deadline) {
  long long last = -1;
  auto unchanged_since = std::chrono::steady_clock::now();
  wait_until(
      [&] {
        const auto now_total = total_count(redis);
        if (now_total != last) {
          last = now_total;
          unchanged_since = std::chrono::steady_clock::now();
        }
        return last == devices * readings_per_device ||
               std::chrono::steady_clock::now() - unchanged_since > 3s;
      },
      deadline);
  return last;
}

}  // namespace

TEST_CASE("kill -9 under QoS 1 load with a kept session: no reading lost, none counted twice, every reading answered", "[mqtt][crash]") {
  const char* client = std::getenv("MQTT_CLIENT");
  if (client && std::string(client) == "paho") {
    // Paho acknowledges a message on arrival (paho.mqtt.c#522): what it held in flight dies with the
    // process. The loss is documented (README, "What can still be lost"); nothing to assert here.
    SUCCEED("Paho acknowledges on arrival: not covered");
    return;
  }
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  TempDir dir;
  const auto config = unlimited_example_config(dir);
  const std::map<std::string, std::string> env{
      {"MQTT_BROKER", "127.0.0.1"}, {"MQTT_PORT", std::to_string(broker.port())}, {"ENABLE_REDIS", "true"},
      {"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(redis.port())}, {"METRICS_PORT", "0"},
      {"MQTT_CLIENT_ID", "crash-test-1"}, {"MQTT_CLEAN_START", "false"}, {"MQTT_SESSION_EXPIRY", "600"},
      {"LOG_LEVEL", "info"}};
  auto service = std::make_unique<AppProcess>(AppProcess::start({"run", "--config", config}, env));
  REQUIRE(service->wait_log_contains("subscribed to", 15s));
  // The devices' side: every ack that reaches the broker (dedupe replays the ack of a reading handled
  // before the kill whose copy comes again).
  MqttProbe acks;
  acks.connect(broker.port());
  acks.subscribe("devices/+/ack", 1);

  // The devices: one mosquitto_pub -l each, QoS 1, every reading a unique msg_id.
  std::vector<ChildProcess> loaders;
  for (int d = 1; d <= devices; ++d) {
    const auto lines = dir / fmt::format("d{}.txt", d);
    std::ofstream out(lines);
    for (int i = 1; i <= readings_per_device; ++i) out << fmt::format(R"({{"msg_id":"d{}-{}","value":{}}})", d, i, i) << "\n";
    out.close();
    loaders.push_back(ChildProcess::spawn(
        {"sh", "-c",
         fmt::format("mosquitto_pub -h 127.0.0.1 -p {} -q 1 -i loader-{} -t devices/d{}/telemetry -l < {}",
                     broker.port(), d, d, lines.string())}));
  }

  // Killed mid-load, then started again: the broker keeps the session and its unacknowledged messages.
  REQUIRE(wait_until([&] { return total_count(redis) >= devices * readings_per_device / 4; }, 30s));
  service->process().kill9();
  REQUIRE(service->wait_exit(10s));
  const auto at_kill = total_count(redis);
  INFO("handled before the kill: " << at_kill);
  service = std::make_unique<AppProcess>(AppProcess::start({"run", "--config", config}, env));
  for (auto& loader : loaders) REQUIRE(loader.wait_exit(60s));

  const auto total = settled_total(redis, 60s);
  INFO(service->log_text());
  CHECK(at_kill < devices * readings_per_device);  // the kill came mid-load, or the test proves nothing
  for (int d = 1; d <= devices; ++d) {
    INFO("device d" << d);
    CHECK(count_of(redis, d) == readings_per_device);  // none lost, none counted twice
  }
  CHECK(total == devices * readings_per_device);
  // Every reading answered at least once.
  std::set<std::string> acked;
  wait_until(
      [&] {
        for (const auto& ack : acks.messages()) acked.insert(nlohmann::json::parse(ack.payload)["msg_id"].get<std::string>());
        return acked.size() == static_cast<std::size_t>(devices * readings_per_device);
      },
      30s);
  CHECK(acked.size() == static_cast<std::size_t>(devices * readings_per_device));
}
