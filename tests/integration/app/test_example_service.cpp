// The example service as users run it: the real build/bin/routemq on config/app.yaml, a real mosquitto
// and a real redis-server, driven by an MQTT client from outside. Every behaviour routes/ promises
// (telemetry acks, invalid payloads, rate-limit rejections, duplicates, commands, the rpc cache) is
// checked here, with Redis enabled, disabled, and killed and restarted mid-run, and /metrics and
// /ready are checked to reflect what happened.
#include <catch2/catch.hpp>

#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/app_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The value of one Prometheus series (`name{labels}` exactly as exposed), or nullopt when absent.
std::optional<double> metric(std::uint16_t port, const std::string& series) {
  std::istringstream lines(http_get(port, "/metrics").body);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

bool metric_reaches(std::uint16_t port, const std::string& series, double value) {
  return wait_until([&] { return metric(port, series).value_or(-1) >= value; }, 15s);
}

// routemq run --config config/app.yaml against the given broker (and Redis, when redis_port is set),
// with its operations endpoint on a free port read back from its log.
class ExampleService {
 public:
  ExampleService(std::uint16_t broker_port, std::optional<std::uint16_t> redis_port)
      : process_(AppProcess::start({"run", "--config", example_config()}, environment(broker_port, redis_port))) {
    REQUIRE(process_.wait_log_contains("operations endpoint: http://127.0.0.1:", 15s));
    const auto log = process_.log_text();
    const auto at = log.find("operations endpoint: http://127.0.0.1:") + std::string("operations endpoint: http://127.0.0.1:").size();
    metrics_port_ = static_cast<std::uint16_t>(std::stoi(log.substr(at)));
    INFO(process_.log_text());
    REQUIRE(wait_until([&] { return http_get(metrics_port_, "/ready").status == 200; }, 15s));
  }
  ~ExampleService() {
    process_.terminate();
    if (!process_.wait_exit(15s)) process_.process().signal(SIGKILL);
  }

  std::uint16_t metrics_port() const { return metrics_port_; }
  std::string ready_body() const { return http_get(metrics_port_, "/ready").body; }
  std::string log_text() const { return process_.log_text(); }

 private:
  static std::map<std::string, std::string> environment(std::uint16_t broker_port, std::optional<std::uint16_t> redis_port) {
    std::map<std::string, std::string> env{{"MQTT_BROKER", "127.0.0.1"},
                                           {"MQTT_PORT", std::to_string(broker_port)},
                                           {"ENABLE_REDIS", redis_port ? "true" : "false"},
                                           {"LOG_LEVEL", "info"}};
    if (redis_port) {
      env["REDIS_HOST"] = "127.0.0.1";
      env["REDIS_PORT"] = std::to_string(*redis_port);
      env["REDIS_SOCKET_TIMEOUT"] = "1";
      env["REDIS_SOCKET_CONNECT_TIMEOUT"] = "1";
    }
    return env;
  }

  AppProcess process_;
  std::uint16_t metrics_port_ = 0;
};

// A device: publishes telemetry and commands, and collects what the service answers it.
class Device {
 public:
  Device(std::uint16_t broker_port, std::string id) : id_(std::move(id)) {
    probe_.connect(broker_port);
    probe_.subscribe("devices/" + id_ + "/ack", 1);
    probe_.subscribe("devices/" + id_ + "/rejected", 1);
    probe_.subscribe("devices/" + id_ + "/commands/+/result", 1);
  }

  void send(const json& reading) { send_raw(reading.dump()); }
  void send_raw(const std::string& payload) { probe_.publish("devices/" + id_ + "/telemetry", payload, 1); }
  void command(const std::string& name, const std::string& payload = "{}") {
    probe_.publish("devices/" + id_ + "/commands/" + name, payload, 1);
  }

  // The first answer on devices/{id}/{kind} about msg_id; fails the test after 15 s.
  json answer(const std::string& kind, const json& msg_id) {
    auto message = probe_.wait_for([&](const ReceivedMessage& m) { return is(m, kind) && body(m).value("msg_id", json()) == msg_id; }, 15s);
    REQUIRE(message);
    return body(*message);
  }
  json ack(const json& msg_id) { return answer("ack", msg_id); }
  // The nth (1-based) result of a command.
  json result(const std::string& command, std::size_t nth) {
    const auto topic = "devices/" + id_ + "/commands/" + command + "/result";
    REQUIRE(probe_.wait_count([&](const ReceivedMessage& m) { return m.topic == topic; }, nth, 15s) >= nth);
    std::vector<json> results;
    for (const auto& m : probe_.messages())
      if (m.topic == topic) results.push_back(body(m));
    return results.at(nth - 1);
  }
  std::size_t count(const std::string& kind) const {
    std::size_t n = 0;
    for (const auto& m : probe_.messages()) n += is(m, kind);
    return n;
  }
  std::vector<json> answers(const std::string& kind) const {
    std::vector<json> out;
    for (const auto& m : probe_.messages())
      if (is(m, kind)) out.push_back(body(m));
    return out;
  }

 private:
  bool is(const ReceivedMessage& m, const std::string& kind) const { return m.topic == "devices/" + id_ + "/" + kind; }
  static json body(const ReceivedMessage& m) { return json::parse(m.payload, nullptr, false); }

  std::string id_;
  MqttProbe probe_;
};

struct RpcClient {
  explicit RpcClient(std::uint16_t broker_port) {
    probe.connect(broker_port);
    probe.subscribe("replies/example-test", 1);
  }
  json call(const std::string& service, const json& request) { return call_raw(service, request.dump()); }
  json call_raw(const std::string& service, const std::string& request) {
    return call_as("c" + std::to_string(++calls), service, request);
  }
  // A call with the given correlation data (a client retrying sends the same again).
  json call_as(const std::string& correlation, const std::string& service, const std::string& request) {
    probe.clear();
    probe.publish("rpc/" + service, request, 1, false,
                  PublishProperties{.response_topic = "replies/example-test", .correlation_data = correlation});
    auto reply = probe.wait_for([&](const ReceivedMessage& m) { return m.correlation_data == correlation; }, 15s);
    REQUIRE(reply);
    return json::parse(reply->payload);
  }
  MqttProbe probe;
  int calls = 0;
};

// Payloads that once crashed a service, or could: JSON nested 100,000 levels (the handler that copies
// or serialises it recursed off the stack), unclosed nesting, bytes that are not UTF-8, nothing at all.
std::vector<std::string> hostile_payloads() {
  std::string deep_objects;
  for (int i = 0; i < 100'000; ++i) deep_objects += R"({"a":)";
  deep_objects += "1" + std::string(100'000, '}');
  return {std::string(100'000, '[') + "1" + std::string(100'000, ']'), deep_objects, std::string(300'000, '['),
          "{\"msg_id\":\"\xff\xfe\",\"value\":1}", "", std::string(1'000, '\x91') + '\x01'};
}

std::string hget(const RedisServer& redis, const std::string& key, const std::string& field) {
  return redis.command({"HGET", key, field});
}

}  // namespace

TEST_CASE("example service: telemetry is stored and acknowledged with its count, and invalid payloads are rejected with nothing stored") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  ExampleService service(broker.port(), redis.port());
  Device device(broker.port(), "d1");

  device.send({{"msg_id", "m1"}, {"value", 20.5}});
  CHECK(device.ack("m1") == json{{"msg_id", "m1"}, {"count", 1}});
  device.send({{"msg_id", 2}, {"value", 21}});  // integer ids are ids too
  CHECK(device.ack(2) == json{{"msg_id", 2}, {"count", 2}});
  CHECK(hget(redis, "routemq:device:d1", "last_value") == "$4\r\n21.0\r\n");
  CHECK(hget(redis, "routemq:device:d1", "last_seen").starts_with("$13\r\n"));  // epoch milliseconds
  CHECK(redis.command({"GET", "routemq:device:d1:telemetry_count"}) == "$1\r\n2\r\n");
  CHECK(redis.command({"LRANGE", "routemq:device:d1:recent", "0", "-1"}) == "*2\r\n$4\r\n21.0\r\n$4\r\n20.5\r\n");

  Device broken(broker.port(), "d2");
  for (const std::string& payload : std::vector<std::string>{"not json", R"({"msg_id":"x"})", R"({"msg_id":"y","value":"hot"})", R"([1,2])",
                                    R"({"value":3})", std::string("\xff\xfe{", 3)})
    broken.send_raw(payload);
  const bool all_rejected = wait_until([&] { return broken.count("rejected") == 6; }, 15s);
  INFO(json(broken.answers("rejected")).dump() << "\n" << service.log_text());
  REQUIRE(all_rejected);
  for (const auto& rejection : broken.answers("rejected")) {
    CHECK(rejection["error"] == "invalid_payload");
    CHECK(rejection["detail"].is_string());
  }
  CHECK(redis.command({"EXISTS", "routemq:device:d2", "routemq:device:d2:telemetry_count", "routemq:device:d2:recent"}) == ":0\r\n");
  CHECK(broken.count("ack") == 0);

  // Still serving, and /metrics tells what happened.
  device.send({{"msg_id", "m3"}, {"value", 1}});
  CHECK(device.ack("m3")["count"] == 3);
  const auto port = service.metrics_port();
  CHECK(metric_reaches(port, "routemq_messages_rejected_total{route=\"telemetry\"}", 6));
  CHECK(metric_reaches(port, "routemq_messages_handled_total{route=\"telemetry\"}", 3));
  CHECK(metric(port, "routemq_messages_failed_total{route=\"telemetry\"}").value_or(-1) == 0);
  CHECK(metric(port, "routemq_redis_state{state=\"connected\"}") == 1.0);
}

TEST_CASE("example service: a device over its rate is answered on .../rejected with retry_after_ms, and each msg_id is handled once") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  ExampleService service(broker.port(), redis.port());
  Device device(broker.port(), "d3");

  // config/app.yaml: burst 20, then 10 per second. 40 readings as fast as QoS 1 goes.
  constexpr int sent = 40;
  for (int i = 0; i < sent; ++i) device.send({{"msg_id", "r" + std::to_string(i)}, {"value", i}});
  REQUIRE(wait_until([&] { return device.count("ack") + device.count("rejected") == sent; }, 30s));
  const auto rejections = device.answers("rejected");
  INFO("acks: " << device.count("ack"));
  CHECK(device.count("ack") >= 20);
  REQUIRE(!rejections.empty());
  for (const auto& rejection : rejections) {
    CHECK(rejection["error"] == "rate_limited");
    CHECK(rejection["retry_after_ms"].get<double>() > 0);
    CHECK(rejection["msg_id"].get<std::string>().starts_with("r"));
  }
  // What was acked was stored, and nothing else.
  CHECK(redis.command({"GET", "routemq:device:d3:telemetry_count"}) ==
        fmt::format("${}\r\n{}\r\n", std::to_string(device.count("ack")).size(), device.count("ack")));
  CHECK(metric_reaches(service.metrics_port(), "routemq_middleware_decisions_total{middleware=\"rate_limit\",outcome=\"limited\"}",
                       static_cast<double>(rejections.size())));

  // A duplicate msg_id (a device retrying after a lost ack) is handled once, across a minute or an hour,
  // and gets its first ack again; the same msg_id with another value is refused.
  Device other(broker.port(), "d4");
  other.send({{"msg_id", "once"}, {"value", 7}});
  CHECK(other.ack("once")["count"] == 1);
  other.send({{"msg_id", "once"}, {"value", 7}});
  other.send({{"msg_id", "once"}, {"value", 7}});
  CHECK(metric_reaches(service.metrics_port(), "routemq_middleware_decisions_total{middleware=\"dedupe\",outcome=\"replayed\"}", 2));
  CHECK(metric_reaches(service.metrics_port(), "routemq_messages_replayed_total{route=\"telemetry\"}", 2));
  other.send({{"msg_id", "once"}, {"value", 8}});
  other.send({{"msg_id", "next"}, {"value", 8}});
  CHECK(other.ack("next")["count"] == 2);
  REQUIRE(wait_until([&] { return other.count("ack") == 4 && other.count("rejected") == 1; }, 10s));
  for (const auto& ack : other.answers("ack"))
    if (ack["msg_id"] == "once") CHECK(ack == nlohmann::json{{"msg_id", "once"}, {"count", 1}});
  CHECK(other.answers("rejected").at(0) == nlohmann::json{{"error", "id_reused"}, {"id", "d4:once"}, {"msg_id", "once"}});
  CHECK(redis.command({"GET", "routemq:device:d4:telemetry_count"}) == "$1\r\n2\r\n");

  // Message ids are a device's own: three devices sending msg_id "once" too are each handled once.
  for (const auto* id : {"d10", "d11", "d12"}) {
    Device fresh(broker.port(), id);
    fresh.send({{"msg_id", "once"}, {"value", 1}});
    fresh.send({{"msg_id", "once"}, {"value", 1}});
    CHECK(fresh.ack("once")["count"] == 1);
    fresh.send({{"msg_id", "last"}, {"value", 2}});
    CHECK(fresh.ack("last")["count"] == 2);
    REQUIRE(wait_until([&] { return fresh.count("ack") == 3; }, 10s));  // "once" answered twice, the same
  }
}

TEST_CASE("example service: commands are counted in the device's session under a lock with increasing fencing numbers") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  ExampleService service(broker.port(), redis.port());
  Device device(broker.port(), "d5");

  device.command("reboot");
  const auto first = device.result("reboot", 1);
  device.command("reboot");
  const auto second = device.result("reboot", 2);
  device.command("status");
  const auto status = device.result("status", 1);
  CHECK(first["count"] == 1);
  CHECK(second["count"] == 2);
  CHECK(status["count"] == 1);
  for (const auto& result : {first, second, status}) {
    CHECK(result["locked"] == true);
    CHECK(result["session_ephemeral"] == false);
  }
  CHECK(first["fence"].get<long long>() < second["fence"].get<long long>());
  CHECK(second["fence"].get<long long>() < status["fence"].get<long long>());
  CHECK(metric_reaches(service.metrics_port(), "routemq_middleware_decisions_total{middleware=\"lock\",outcome=\"acquired\"}", 3));
}

TEST_CASE("example service: a repeated rpc request is answered from the Redis cache") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  ExampleService service(broker.port(), redis.port());
  RpcClient client(broker.port());

  const auto miss = client.call("inventory", {{"sku", "A-1"}});
  CHECK(miss["cached"] == false);
  CHECK(miss["request"] == json{{"sku", "A-1"}});
  const auto hit = client.call("inventory", {{"sku", "A-1"}});
  CHECK(hit["cached"] == true);
  CHECK(hit["result"] == miss["result"]);
  CHECK(client.call("inventory", {{"sku", "B-2"}})["cached"] == false);  // another request, another entry
  CHECK(client.call("pricing", {{"sku", "A-1"}})["cached"] == false);    // another service too
  CHECK(metric_reaches(service.metrics_port(), "routemq_redis_read_hits_total", 1));

  // A request sent again with its correlation data (a client retrying) gets its first answer again,
  // byte for byte, not a new one from the cache; another request under the same correlation data is refused.
  const auto first = client.call_as("retry-1", "stock", R"({"sku":"C-3"})");
  const auto again = client.call_as("retry-1", "stock", R"({"sku":"C-3"})");
  CHECK(again == first);
  CHECK(again["cached"] == false);
  CHECK(metric_reaches(service.metrics_port(), "routemq_messages_replayed_total{route=\"rpc\"}", 1));
  const auto reused = client.call_as("retry-1", "stock", R"({"sku":"D-4"})");
  CHECK(reused["error"] == "id_reused");
}

TEST_CASE("example service with ENABLE_REDIS=false: every route still answers, without counts, locks or cache") {
  MosquittoServer broker;
  broker.start();
  ExampleService service(broker.port(), std::nullopt);
  CHECK_THAT(service.ready_body(), Catch::Contains("\"ready\":true"));
  Device device(broker.port(), "d6");

  device.send({{"msg_id", "m1"}, {"value", 1}});
  CHECK(device.ack("m1") == json{{"msg_id", "m1"}, {"count", nullptr}});
  device.send_raw("{");
  CHECK(wait_until([&] { return device.count("rejected") == 1; }, 15s));
  device.command("reboot");
  const auto result = device.result("reboot", 1);
  CHECK(result["locked"] == false);
  CHECK(result["fence"] == 0);
  CHECK(result["session_ephemeral"] == true);
  RpcClient client(broker.port());
  CHECK(client.call("inventory", {{"sku", "A-1"}})["cached"] == false);
  CHECK(client.call("inventory", {{"sku", "A-1"}})["cached"] == false);
}

TEST_CASE("example service: Redis killed mid-run, the service keeps answering, says so on /ready, and recovers") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  ExampleService service(broker.port(), redis.port());
  const auto port = service.metrics_port();
  Device device(broker.port(), "d7");
  device.send({{"msg_id", "before"}, {"value", 1}});
  CHECK(device.ack("before")["count"] == 1);

  redis.kill9();
  REQUIRE(wait_until([&] { return service.ready_body().find("\"state\":\"degraded\"") != std::string::npos; }, 15s));
  CHECK(http_get(port, "/ready").status == 200);  // degraded, still serving
  CHECK(metric(port, "routemq_redis_state{state=\"connected\"}") == 0.0);
  device.send({{"msg_id", "during"}, {"value", 2}});
  CHECK(device.ack("during")["count"].is_null());
  device.command("reboot");
  CHECK(device.result("reboot", 1)["session_ephemeral"] == true);
  CHECK(metric_reaches(port, "routemq_middleware_decisions_total{middleware=\"rate_limit\",outcome=\"unavailable\"}", 1));

  redis.restart();
  REQUIRE(wait_until([&] { return metric(port, "routemq_redis_state{state=\"connected\"}") == 1.0; }, 20s));
  CHECK(metric(port, "routemq_redis_reconnects_total").value_or(0) >= 1);
  CHECK_THAT(service.ready_body(), Catch::Contains("\"state\":\"ok\""));
  device.send({{"msg_id", "after"}, {"value", 3}});
  CHECK(device.ack("after")["count"] == 1);  // a fresh redis-server: no persistence in tests
  device.command("reboot");
  CHECK(device.result("reboot", 2)["session_ephemeral"] == false);
  CHECK(metric(port, "routemq_messages_failed_total{route=\"telemetry\"}").value_or(-1) == 0);
}

TEST_CASE("example service: hostile payloads on every route are refused or answered, and the next message is served") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis;
  redis.start();
  ExampleService service(broker.port(), redis.port());
  Device device(broker.port(), "d9");
  RpcClient client(broker.port());
  const auto hostile = hostile_payloads();

  for (const auto& payload : hostile) device.send_raw(payload);
  REQUIRE(wait_until([&] { return device.count("rejected") == hostile.size(); }, 15s));
  for (const auto& rejection : device.answers("rejected")) CHECK(rejection["error"] == "invalid_payload");
  CHECK(device.answers("rejected")[0]["detail"] == "not JSON: nested deeper than 128 levels");
  device.send({{"msg_id", "after"}, {"value", 1}});
  CHECK(device.ack("after")["count"] == 1);

  for (const auto& payload : hostile) {
    const auto answer = client.call_raw("inventory", payload);
    CHECK(answer["error"] == "invalid_payload");
  }
  CHECK(client.call("inventory", {{"sku", "A-1"}})["cached"] == false);

  for (std::size_t i = 0; i < hostile.size(); ++i) device.command("reboot", hostile[i]);  // commands ignore payloads
  CHECK(device.result("reboot", hostile.size())["locked"] == true);

  // A cached answer replaced in Redis by a value nested 100,000 levels is reloaded, not parsed deep.
  const auto keys = redis.command({"KEYS", "routemq:rpc:inventory:*"});
  const auto at = keys.find("routemq:rpc:");
  REQUIRE(at != std::string::npos);
  const auto cached_key = keys.substr(at, keys.find("\r\n", at) - at);
  REQUIRE(redis.command({"SET", cached_key, hostile[0]}) == "+OK\r\n");
  const auto reloaded = client.call("inventory", {{"sku", "A-1"}});
  CHECK(reloaded["cached"] == false);
  CHECK(reloaded["result"]["service"] == "inventory");

  const auto port = service.metrics_port();
  CHECK(metric_reaches(port, "routemq_messages_rejected_total{route=\"telemetry\"}", static_cast<double>(hostile.size())));
  CHECK(metric_reaches(port, "routemq_messages_rejected_total{route=\"rpc\"}", static_cast<double>(hostile.size())));
  CHECK(metric(port, "routemq_messages_failed_total{route=\"rpc\"}").value_or(-1) == 0);
  CHECK(http_get(port, "/health").status == 200);
}
