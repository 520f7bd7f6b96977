// The native MQTT client (mqtt.client: native) against a scripted broker (tests/support/scripted_broker.hpp):
// a broker whose limits, timing and misbehaviour the test decides, and which records every packet the
// client sends and every rule of the standard (OASIS MQTT 5.0 / 3.1.1) the client breaks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/reason_code.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/scripted_broker.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
// Paho's ::mqtt is in this unit too (other tests' probes): the codec's namespace by another name.
namespace proto = routemq::mqtt;

// Named, not anonymous: the folder's tests compile as one unit, and its other files have helpers too.
namespace routemq::test::native_client {

// A flag a handler waits on, so that the test decides when a message is handled. Bounded: a test
// that fails never leaves a worker blocked for ever.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait(std::chrono::milliseconds deadline = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// Runs `f` at scope exit: opens the gates before the app stops, so that a failed REQUIRE does not
// leave the app draining handlers that wait for a gate nobody will open.
template <class F>
class Finally {
 public:
  explicit Finally(F f) : f_(std::move(f)) {}
  ~Finally() { f_(); }
  Finally(const Finally&) = delete;
  Finally& operator=(const Finally&) = delete;

 private:
  F f_;
};

// What the handlers saw, from any worker.
class Handled {
 public:
  void add(std::string payload) {
    std::lock_guard lock(mutex_);
    payloads_.push_back(std::move(payload));
  }
  std::size_t count(const std::string& payload) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count(payloads_.begin(), payloads_.end(), payload));
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return payloads_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> payloads_;
};

// Failures seen on the broker's thread (the observer), CHECKed on the test's.
class Failures {
 public:
  void add(std::string what) {
    std::lock_guard lock(mutex_);
    list_.push_back(std::move(what));
  }
  std::vector<std::string> list() const {
    std::lock_guard lock(mutex_);
    return list_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> list_;
};

proto::Publish reading(std::string topic, std::string payload, std::uint16_t packet_id, std::uint8_t qos = 1) {
  proto::Publish publish;
  publish.topic = std::move(topic);
  publish.payload = std::move(payload);
  publish.qos = qos;
  publish.packet_id = qos > 0 ? packet_id : 0;
  return publish;
}

proto::PublishAck ack(proto::PacketType type, std::uint16_t packet_id) {
  proto::PublishAck result;
  result.type = type;
  result.packet_id = packet_id;
  return result;
}

proto::Connack connack(bool session_present = false) {
  proto::Connack result;
  result.session_present = session_present;
  return result;
}

// An App on the native client against `broker`: MQTT 5 unless `extra_yaml` says `version: 3`.
AppConfig native_config(const ScriptedBroker& broker, const std::string& extra_yaml = "", int workers = 2) {
  auto config = app_config_for(broker.port(), "  client: native\n" + extra_yaml);
  config.app.workers = workers;
  return config;
}

// A counter or gauge of App::metrics() (what /metrics serves); -1 when absent.
double metric(const App& app, const std::string& name) {
  for (const auto& family : app.metrics()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& sample = family.metric.front();
    return family.type == prometheus::MetricType::Counter ? sample.counter.value : sample.gauge.value;
  }
  return -1;
}

bool contains(const std::vector<std::uint16_t>& ids, std::uint16_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string hex(std::uint8_t code) { return fmt::format("0x{:02X}", code); }

// 0x30 | flags, then a Remaining Length for `body`, then `body`: a PUBLISH built by hand, for what
// our encoder refuses to write (an invalid topic, a property twice, ...).
std::string raw_packet(std::uint8_t first, const std::string& body) {
  std::string out(1, static_cast<char>(first));
  proto::append_variable_byte_integer(static_cast<std::uint32_t>(body.size()), out);
  return out + body;
}
std::string u16(std::uint16_t value) {
  return {static_cast<char>(value >> 8), static_cast<char>(value & 0xFF)};
}
std::string mqtt_string(const std::string& text) { return u16(static_cast<std::uint16_t>(text.size())) + text; }

// The answer a handler publishes for reading n: about 50 bytes.
std::string answer_for(int n) { return fmt::format("answer {:>3} .....................................", n); }

// An app serving devices/{id}/telemetry (QoS 1), recording each payload it handled: the route the
// hostile-input cases use to show the app still serves after a reconnect.
struct ServingApp {
  ServingApp(ScriptedBroker& broker, const std::string& extra_yaml) : app(native_config(broker, extra_yaml), Environment()) {
    app.route("devices/{id}/telemetry", [this](Context& ctx) { handled.add(std::string(ctx.payload())); })
        .name("telemetry")
        .qos(1);
  }
  Handled handled;
  App app;
};

// After the broker broke the protocol on connection 1: the client closed it (v5: with a DISCONNECT
// carrying `reason` [MQTT-4.13.2-1]; 3.1.1 has no DISCONNECT from a client for that, it just closes),
// connected again, subscribed again, and a normal reading is then handled and acknowledged.
void check_closed_and_recovered(ScriptedBroker& broker, ServingApp& serving, std::optional<std::uint8_t> reason) {
  REQUIRE(wait_until([&] { return broker.connection_closed(1); }, 5s));
  const auto received = broker.received();
  if (reason) {
    const auto disconnect = disconnect_of(received, 1);
    REQUIRE(disconnect);
    CHECK(hex(disconnect->reason_code) == hex(*reason));
  } else {
    CHECK_FALSE(has_packet<proto::Disconnect>(received, 1));
  }
  REQUIRE(broker.wait_for([](const auto& r) { return has_packet<proto::Subscribe>(r, 2); }, 5s));
  broker.send(reading("devices/after/telemetry", "after the reconnect", 42));
  CHECK(broker.wait_for([](const auto& r) { return contains(acks(r, proto::PacketType::puback, 2), 42); }, 5s));
  CHECK(serving.handled.count("after the reconnect") == 1);
  CHECK(metric(serving.app, "routemq_mqtt_protocol_errors_total") >= 1);
  CHECK(broker.violations() == std::vector<std::string>{});  // printed when not
}

}  // namespace routemq::test::native_client

using namespace routemq::test::native_client;

TEST_CASE("native client: a strict broker's limits are kept, and a reading is acknowledged only once handled",
          "[native]") {
  ScriptedBroker broker;
  auto limits = connack();
  limits.properties.receive_maximum = 2;
  limits.properties.maximum_packet_size = 256;
  limits.properties.topic_alias_maximum = 2;
  limits.properties.maximum_qos = 1;
  broker.set_connack(limits);
  broker.hold_acks(true);  // released two at a time below: the client must wait for them

  Gate gate;
  std::atomic<int> started{0};
  std::mutex handled_mutex;
  std::set<int> handled;  // readings whose handler returned
  App app(native_config(broker), Environment());
  app.route("devices/{id}/telemetry", [&](Context& ctx) {
       ++started;
       gate.wait();
       const int n = std::stoi(std::string(ctx.payload()));
       const auto ack_topic = "devices/" + ctx.param("id") + "/ack";
       // Every tenth answer cannot fit the broker's 256 bytes: refused, never sent [MQTT-3.2.2-15].
       ctx.publish(ack_topic, n % 10 == 0 ? std::string(300, 'x') : answer_for(n), {.qos = 1});
       // QoS 2 to a broker of Maximum QoS 1: sent at QoS 1 [MQTT-3.2.2-11].
       if (n == 1) ctx.publish("devices/" + ctx.param("id") + "/downgraded", std::string("q2"), {.qos = 2});
       std::lock_guard lock(handled_mutex);
       handled.insert(n);
     })
      .name("telemetry")
      .qos(1);

  // A PUBACK for a reading whose handler had not returned would lose it on a crash.
  Failures early_acks;
  broker.on_packet([&](const ReceivedPacket& packet) {
    const auto* puback = std::get_if<proto::PublishAck>(&packet.packet);
    if (!puback || puback->type != proto::PacketType::puback) return;
    std::lock_guard lock(handled_mutex);
    if (!handled.contains(puback->packet_id))
      early_acks.add(fmt::format("PUBACK {} before its handler returned", puback->packet_id));
  });

  RunningApp running(app);
  Finally open_at_exit([&] { gate.open(); });
  REQUIRE(running.wait_subscribed(5s));
  for (int n = 1; n <= 50; ++n)
    broker.send(reading(fmt::format("devices/d{}/telemetry", n % 5), std::to_string(n), static_cast<std::uint16_t>(n)));

  // Handlers are running and blocked: nothing may be acknowledged yet.
  REQUIRE(wait_until([&] { return started >= 2; }, 5s));
  CHECK(acks(broker.received(), proto::PacketType::puback).empty());
  gate.open();

  // 45 answers that fit and one downgraded QoS 2: 46 QoS 1 publishes, at most two unacknowledged at a
  // time. Released whenever the client has used its whole quota (or sent its last).
  constexpr std::size_t expected_publishes = 46;
  auto client_publishes = [&] { return publishes(broker.received()).size(); };
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (client_publishes() < expected_publishes && std::chrono::steady_clock::now() < deadline) {
    wait_until([&] { return broker.held_acks() >= 2 || client_publishes() >= expected_publishes; }, 2s);
    broker.release_acks();
  }
  broker.hold_acks(false);
  broker.release_acks();
  REQUIRE(broker.wait_for([](const auto& r) { return acks(r, proto::PacketType::puback).size() >= 50; }, 5s));

  const auto received = broker.received();
  CHECK(broker.violations() == std::vector<std::string>{});  // printed when not
  CHECK(early_acks.list() == std::vector<std::string>{});
  CHECK(broker.max_client_in_flight() == 2);  // the quota was used, and never exceeded

  // Every answer that fits arrived, once, and nothing of 300 bytes did.
  std::multiset<std::string> answers;
  std::vector<proto::Publish> downgraded;
  for (const auto& publish : publishes(received)) {
    CHECK(publish.payload.size() < 300);
    if (publish.topic.ends_with("/ack")) answers.insert(publish.payload);
    if (publish.topic.ends_with("/downgraded")) downgraded.push_back(publish);
  }
  for (int n = 1; n <= 50; ++n) CHECK(answers.count(answer_for(n)) == (n % 10 == 0 ? 0u : 1u));
  REQUIRE(downgraded.size() == 1);
  CHECK(downgraded.front().qos == 1);
  CHECK(metric(app, "routemq_mqtt_publish_failures_total") == 5);

  // Each reading acknowledged once, in the order they arrived [MQTT-4.6.0-2].
  std::vector<std::uint16_t> in_order(50);
  for (std::uint16_t n = 1; n <= 50; ++n) in_order[n - 1] = n;
  CHECK(acks(received, proto::PacketType::puback) == in_order);
}

TEST_CASE("native client: PUBACKs leave in arrival order though the handlers finish in reverse", "[native]") {
  ScriptedBroker broker;
  Gate gates[4];
  std::atomic<bool> done[4] = {false, false, false, false};
  App app(native_config(broker, "", 4), Environment());
  app.route("devices/{id}/telemetry", [&](Context& ctx) {
       const int n = std::stoi(std::string(ctx.payload()));
       gates[n].wait();
       done[n] = true;
     })
      .name("telemetry")
      .qos(1)
      .unordered();  // the three run at once

  // [MQTT-4.6.0-2]: the client MUST send PUBACKs in the order the PUBLISHes were received, so no
  // PUBACK may go before reading 1 is handled, however early 2 and 3 finish.
  Failures early_acks;
  broker.on_packet([&](const ReceivedPacket& packet) {
    if (const auto* puback = std::get_if<proto::PublishAck>(&packet.packet); puback && !done[1])
      early_acks.add(fmt::format("PUBACK {} before reading 1 was handled", puback->packet_id));
  });

  RunningApp running(app);
  Finally open_at_exit([&] {
    for (auto& gate : gates) gate.open();
  });
  REQUIRE(running.wait_subscribed(5s));
  broker.send(reading("devices/a/telemetry", "1", 1));
  broker.send(reading("devices/b/telemetry", "2", 2));
  broker.send(reading("devices/c/telemetry", "3", 3));
  REQUIRE(wait_until([&] { return metric(app, "routemq_messages_in_flight") == 3; }, 5s));

  gates[3].open();
  REQUIRE(wait_until([&] { return done[3].load(); }, 5s));
  gates[2].open();
  REQUIRE(wait_until([&] { return done[2].load(); }, 5s));
  CHECK(acks(broker.received(), proto::PacketType::puback).empty());
  gates[1].open();

  REQUIRE(broker.wait_for([](const auto& r) { return acks(r, proto::PacketType::puback).size() == 3; }, 5s));
  CHECK(acks(broker.received(), proto::PacketType::puback) == std::vector<std::uint16_t>{1, 2, 3});
  CHECK(early_acks.list() == std::vector<std::string>{});
  CHECK(broker.violations() == std::vector<std::string>{});  // printed when not
}

TEST_CASE("native client: a broker breaking the protocol (MQTT 5) is disconnected with the reason, and the app "
          "serves on after reconnecting",
          "[native]") {
  ScriptedBroker broker;
  // Our Maximum Packet Size is then 2048 + 64 KiB (native_client.cpp: room for topic and properties).
  ServingApp serving(broker, "  max_message_bytes: 2048\n");
  std::optional<RunningApp> running;
  auto start = [&] {
    running.emplace(serving.app);
    REQUIRE(running->wait_subscribed(5s));
  };

  SECTION("a Remaining Length of five bytes: malformed [MQTT-1.5.5-1] (1.5.5: at most four bytes)") {
    start();
    broker.send_raw(std::string("\x30\xFF\xFF\xFF\xFF\x7F", 6));
    check_closed_and_recovered(broker, serving, proto::reason::malformed_packet);
  }
  SECTION("a SUBACK larger than our Maximum Packet Size: packet too large (3.1.2.11.4)") {
    start();
    std::string header(1, '\x90');
    proto::append_variable_byte_integer(70'000, header);
    broker.send_raw(header + std::string(100, '\0'));  // the header alone says it is too large
    check_closed_and_recovered(broker, serving, proto::reason::packet_too_large);
  }
  SECTION("a PUBLISH larger than our Maximum Packet Size, which an MQTT 5 broker promised not to send "
          "[MQTT-3.1.2-24]: packet too large") {
    start();
    const std::string body = mqtt_string("devices/big/telemetry") + u16(9) + std::string(1, '\0');
    std::string header(1, '\x32');
    proto::append_variable_byte_integer(static_cast<std::uint32_t>(body.size() + 70'000), header);
    broker.send_raw(header + body + std::string(1000, 'x'));
    check_closed_and_recovered(broker, serving, proto::reason::packet_too_large);
  }
  SECTION("invalid UTF-8 in a PUBLISH topic: malformed [MQTT-1.5.4-1]") {
    start();
    const std::string topic = std::string("devices/\xC3\x28/telemetry");  // 0xC3 then not a continuation byte
    broker.send_raw(raw_packet(0x32, mqtt_string(topic) + u16(5) + std::string(1, '\0') + "x"));
    check_closed_and_recovered(broker, serving, proto::reason::malformed_packet);
  }
  SECTION("an unknown property identifier: malformed (2.2.2.2: an identifier not valid for the packet)") {
    start();
    // Property length 2: identifier 0x7F (none defined), one byte of value.
    const std::string properties = std::string(1, '\x02') + std::string("\x7F\x00", 2);
    broker.send_raw(raw_packet(0x32, mqtt_string("devices/x/telemetry") + u16(5) + properties + "x"));
    check_closed_and_recovered(broker, serving, proto::reason::malformed_packet);
  }
  SECTION("a property twice: protocol error (3.3.2.3.2: Payload Format Indicator more than once)") {
    start();
    const std::string properties = std::string(1, '\x04') + std::string("\x01\x00\x01\x00", 4);
    broker.send_raw(raw_packet(0x32, mqtt_string("devices/x/telemetry") + u16(5) + properties + "x"));
    check_closed_and_recovered(broker, serving, proto::reason::protocol_error);
  }
  SECTION("a QoS 1 PUBLISH with packet id 0 [MQTT-2.2.1-4]: malformed or protocol error") {
    start();
    broker.send_raw(raw_packet(0x32, mqtt_string("devices/x/telemetry") + u16(0) + std::string(1, '\0') + "x"));
    // The standard names no reason code for it. Our codec reads it as malformed (0x81): a packet that
    // "cannot be parsed according to this specification" (1.2); a protocol error (0x82) would be as
    // defensible, data "not allowed by the protocol" in a packet that parses. Either is conformant.
    REQUIRE(wait_until([&] { return broker.connection_closed(1); }, 5s));
    const auto disconnect = disconnect_of(broker.received(), 1);
    REQUIRE(disconnect);
    INFO("reason " << hex(disconnect->reason_code));
    CHECK((disconnect->reason_code == proto::reason::malformed_packet ||
           disconnect->reason_code == proto::reason::protocol_error));
    check_closed_and_recovered(broker, serving, disconnect->reason_code);
  }
  SECTION("a PUBACK for a packet id we never used: protocol error") {
    start();
    broker.send(ack(proto::PacketType::puback, 999));
    check_closed_and_recovered(broker, serving, proto::reason::protocol_error);
  }
  SECTION("a second CONNACK [MQTT-3.2.0-2]: protocol error") {
    start();
    broker.send(connack());
    check_closed_and_recovered(broker, serving, proto::reason::protocol_error);
  }
  SECTION("a PUBLISH before CONNACK [MQTT-3.2.0-1]: protocol error") {
    broker.send_before_next_connack(
        ScriptedBroker::encoded(reading("devices/early/telemetry", "too early", 1), proto::Version::v5));
    start();  // subscribed on the second connection
    check_closed_and_recovered(broker, serving, proto::reason::protocol_error);
    CHECK(serving.handled.count("too early") == 0);
  }
}

TEST_CASE("native client: a broker breaking the protocol (MQTT 3.1.1) is left without a DISCONNECT, and the app "
          "serves on after reconnecting",
          "[native]") {
  ScriptedBroker broker;
  ServingApp serving(broker, "  version: 3\n");
  RunningApp running(serving.app);
  REQUIRE(running.wait_subscribed(5s));
  REQUIRE(broker.version() == proto::Version::v311);

  // 3.1.1 has no reason codes: on a protocol violation the client closes the connection [MQTT-4.8.0-1].
  SECTION("a Remaining Length of five bytes (3.1.1, 2.2.3: at most four)") {
    broker.send_raw(std::string("\x30\xFF\xFF\xFF\xFF\x7F", 6));
    check_closed_and_recovered(broker, serving, std::nullopt);
  }
  SECTION("a second CONNACK (3.1.1, 3.2: the answer to the one CONNECT)") {
    broker.send(connack());
    check_closed_and_recovered(broker, serving, std::nullopt);
  }
}

TEST_CASE("native client: MQTT 3.1.1, a message larger than mqtt.max_message_bytes is acknowledged but not "
          "handled, and the next one is",
          "[native]") {
  ScriptedBroker broker;
  ServingApp serving(broker, "  version: 3\n  max_message_bytes: 4096\n");
  RunningApp running(serving.app);
  REQUIRE(running.wait_subscribed(5s));

  // A 3.1.1 broker cannot know our limit, so sending it is no fault: the client reads past it,
  // refuses it, and still acknowledges it [MQTT-4.5.0-2] (else it holds a slot of the broker's for ever).
  const auto big = ScriptedBroker::encoded(reading("devices/big/telemetry", std::string(1 << 20, 'b'), 1),
                                           proto::Version::v311);
  for (std::size_t at = 0; at < big.size(); at += 64 * 1024) broker.send_raw(std::string_view(big).substr(at, 64 * 1024));
  broker.send(reading("devices/small/telemetry", "small", 2));

  REQUIRE(broker.wait_for([](const auto& r) { return acks(r, proto::PacketType::puback).size() >= 2; }, 5s));
  CHECK(acks(broker.received(), proto::PacketType::puback) == std::vector<std::uint16_t>{1, 2});
  CHECK(serving.handled.count("small") == 1);
  CHECK(serving.handled.size() == 1);
  CHECK(metric(serving.app, "routemq_mqtt_messages_refused_total") == 1);
  CHECK(broker.connections() == 1);  // no reason to close
  CHECK(broker.violations() == std::vector<std::string>{});  // printed when not
}

TEST_CASE("native client: after a reconnect with the session present, a redelivered message is not handled "
          "twice and our unacknowledged answer is sent again",
          "[native]") {
  ScriptedBroker broker;
  broker.hold_acks(true);  // the broker never acknowledges the answer on the first connection
  Gate gate;
  std::atomic<int> runs{0};
  App app(native_config(broker, "  client_id: native-session-test\n  clean_start: false\n  session_expiry: 300\n"),
          Environment());
  app.route("devices/{id}/telemetry", [&](Context& ctx) {
       ++runs;
       ctx.publish("devices/" + ctx.param("id") + "/ack", std::string("answer"), {.qos = 1});
       gate.wait();
     })
      .name("telemetry")
      .qos(1);
  RunningApp running(app);
  Finally open_at_exit([&] { gate.open(); });
  REQUIRE(running.wait_subscribed(5s));

  broker.send(reading("devices/d7/telemetry", "seven", 7));
  REQUIRE(broker.wait_for([](const auto& r) { return !publishes(r, 1).empty(); }, 5s));
  const auto answer = publishes(broker.received(), 1).front();
  CHECK_FALSE(answer.dup);  // [MQTT-4.3.2-2]: a first send has DUP 0

  // The network fails; the broker kept the session.
  broker.set_connack(connack(true));
  broker.hold_acks(false);
  broker.drop();
  REQUIRE(broker.wait_for([](const auto& r) { return has_packet<proto::Connect>(r, 2); }, 5s));
  // [MQTT-4.4.0-1]: the server resends its unacknowledged PUBLISH with its original id, DUP set [MQTT-3.3.1-1].
  auto again = reading("devices/d7/telemetry", "seven", 7);
  again.dup = true;
  broker.send(again);

  // Our answer, unacknowledged, goes again with its id and DUP 1 [MQTT-4.4.0-1] [MQTT-3.3.1-1].
  REQUIRE(broker.wait_for([](const auto& r) { return !publishes(r, 2).empty(); }, 5s));
  const auto resent = publishes(broker.received(), 2).front();
  CHECK(resent.dup);
  CHECK(resent.packet_id == answer.packet_id);
  CHECK(resent.topic == answer.topic);

  // The handler still runs for the first copy: no PUBACK yet, on either connection.
  CHECK(acks(broker.received(), proto::PacketType::puback).empty());
  gate.open();
  REQUIRE(broker.wait_for([](const auto& r) { return contains(acks(r, proto::PacketType::puback, 2), 7); }, 5s));
  CHECK(runs == 1);
  CHECK(acks(broker.received(), proto::PacketType::puback) == std::vector<std::uint16_t>{7});
  CHECK(broker.violations() == std::vector<std::string>{});  // printed when not
}
