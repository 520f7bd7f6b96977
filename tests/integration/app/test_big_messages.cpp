// Messages far larger than mqtt.max_message_bytes, through a real mosquitto into the real service: the
// process stays small (a big message is never held whole), each refused message is logged and counted
// (3.1.1: read past and acknowledged; MQTT 5: the broker drops it for us, told our Maximum Packet
// Size), and the next normal reading is answered.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "tests/support/app_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// The resident set of a process, in KiB (VmRSS in /proc/<pid>/status).
long resident_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

std::optional<double> scraped(std::uint16_t port, const std::string& series) {
  std::istringstream lines(http_get(port, "/metrics").body);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

}  // namespace

// Sanitizers keep freed memory in quarantine and shadow every byte: there the process is large from the
// start, and only its growth says whether a message was held whole.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

TEST_CASE("readings of 8 MB each: refused and counted, the service stays small and answers the next one",
          "[mqtt]") {
  const char* client = std::getenv("MQTT_CLIENT");
  if (client && std::string(client) == "paho") {
    SUCCEED("Paho buffers every message whole: the limit is the native client's");
    return;
  }
  const auto version = GENERATE(std::string("5"), std::string("3"));
  INFO("MQTT version " << version);
  MosquittoServer broker;
  broker.start();
  auto service = AppProcess::start({"run", "--config", example_config()},
                                   {{"MQTT_BROKER", "127.0.0.1"}, {"MQTT_PORT", std::to_string(broker.port())},
                                    {"ENABLE_REDIS", "false"}, {"METRICS_PORT", "0"}, {"MQTT_VERSION", version}});
  REQUIRE(service.wait_log_contains("operations endpoint: http://127.0.0.1:", 15s));
  const auto log = service.log_text();
  const auto marker = std::string("operations endpoint: http://127.0.0.1:");
  const auto metrics_port = static_cast<std::uint16_t>(std::stoi(log.substr(log.find(marker) + marker.size())));
  REQUIRE(service.wait_log_contains("subscribed to", 15s));
  const long idle_kib = resident_kib(service.pid());

  MqttProbe device;
  device.connect(broker.port());
  device.subscribe("devices/big/ack", 1);
  // The service's resident set, sampled all along (every few ms) while the big ones pass.
  std::atomic<long> peak_kib{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      peak_kib = std::max(peak_kib.load(), resident_kib(service.pid()));
      std::this_thread::sleep_for(2ms);
    }
  });
  // Eight times mqtt.max_message_bytes, and not even JSON: it must never reach the handler. README's
  // figure is the issue's size, which takes a minute through the broker:
  //   ROUTEMQ_BIG_MESSAGES=30 ROUTEMQ_BIG_MESSAGE_MB=20 build/bin/test_integration_app "readings of*"
  const auto from_env = [](const char* name, int fallback) {
    const char* value = std::getenv(name);
    return value ? std::stoi(value) : fallback;
  };
  const std::string huge(static_cast<std::size_t>(from_env("ROUTEMQ_BIG_MESSAGE_MB", 8)) << 20, 'x');
  const int big_messages = from_env("ROUTEMQ_BIG_MESSAGES", 3);
  for (int i = 0; i < big_messages; ++i) device.publish("devices/big/telemetry", huge, 1);
  device.publish("devices/big/telemetry", R"({"msg_id":"after","value":1})", 1);
  const auto ack = device.wait_for_topic("devices/big/ack", 15s);
  sampling = false;
  sampler.join();
  REQUIRE(ack);
  CHECK(ack->payload.find("\"after\"") != std::string::npos);
  INFO("RSS " << idle_kib << " KiB idle, " << peak_kib << " KiB at the peak");
  CHECK(peak_kib - idle_kib < 4 * 1024);  // a message held whole would add its 8 MiB
  if (!sanitized) CHECK(peak_kib < 64 * 1024);
  if (version == "3") {  // MQTT 5's broker drops them itself: nothing reaches us to count
    CHECK(scraped(metrics_port, "routemq_mqtt_messages_refused_total").value_or(0) == big_messages);
    CHECK(service.log_text().find("larger than mqtt.max_message_bytes") != std::string::npos);
  }
  CHECK(scraped(metrics_port, "routemq_messages_rejected_total{route=\"telemetry\"}").value_or(-1) == 0);
}
