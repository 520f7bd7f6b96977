// The sans-IO session step by step: the test plays the broker, feeding it encode()d packets and
// reading what it wrote back with a PacketReader. Time is passed in; nothing sleeps.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/packet_reader.hpp"
#include "core/mqtt/protocol/reason_code.hpp"
#include "core/mqtt/session/session.hpp"

using namespace routemq;
using namespace routemq::mqtt;
using namespace std::chrono_literals;

namespace {

const Clock::time_point t0 = Clock::time_point{} + 1h;

// The broker's side of one session: what it sends, what it reads back, what the session reports.
struct Broker {
  explicit Broker(SessionOptions options) : version(options.version), session(std::move(options)) {}

  Version version;
  Session session;
  Clock::time_point now = t0;
  std::optional<PacketReader> reader;

  void open() {
    reader.emplace(version, 1u << 28);
    session.connection_opened(now);
  }
  void send(Packet packet) {
    std::string bytes;
    encode(packet, version, bytes);
    session.bytes_received(bytes, now);
  }
  void send_bytes(std::string_view bytes) { session.bytes_received(bytes, now); }
  std::vector<Packet> written() {
    std::string out;
    session.take_outgoing(out);
    reader->feed(out);
    std::vector<Packet> packets;
    while (auto packet = reader->next()) packets.push_back(std::move(*packet));
    REQUIRE_FALSE(reader->failed());
    return packets;
  }
  std::vector<SessionEvent> events() {
    std::vector<SessionEvent> events;
    while (auto event = session.next_event()) events.push_back(std::move(*event));
    return events;
  }
  // CONNECT out, `connack` in; the CONNECT and the events are dropped, what followed is returned.
  std::vector<Packet> connect(Connack connack = {}) {
    open();
    auto connect_packets = written();
    REQUIRE(connect_packets.size() == 1);
    REQUIRE(std::holds_alternative<Connect>(connect_packets[0]));
    send(std::move(connack));
    REQUIRE(session.connected());
    events();
    return written();
  }
  void reconnect(Connack connack) {
    session.connection_closed();
    open();
    written();
    send(std::move(connack));
  }
  // A delivered message's sequence (the one event expected).
  std::uint64_t arrived() {
    auto all = events();
    REQUIRE(all.size() == 1);
    REQUIRE(std::holds_alternative<MessageArrived>(all[0]));
    return std::get<MessageArrived>(all[0]).sequence;
  }
};

SessionOptions v5_options() {
  SessionOptions options;
  options.client_id = "client-1";
  options.keep_alive_s = 0;
  return options;
}

SessionOptions kept_session_options() {
  SessionOptions options = v5_options();
  options.clean_start = false;
  options.session_expiry_s = 3600;
  return options;
}

Publish inbound(std::uint16_t id, std::uint8_t qos, std::string payload = "payload", bool dup = false) {
  Publish publish;
  publish.topic = "in/topic";
  publish.payload = std::move(payload);
  publish.qos = qos;
  publish.dup = dup;
  publish.packet_id = qos > 0 ? id : 0;
  return publish;
}

Packet ack(PacketType type, std::uint16_t id, std::uint8_t reason_code = 0) {
  return PublishAck{type, id, reason_code, {}};
}

Connack connack_with(Properties properties, bool session_present = false) {
  Connack connack;
  connack.session_present = session_present;
  connack.properties = std::move(properties);
  return connack;
}

OutboundMessage outbound(std::string topic, int qos, std::string payload = "p") {
  return OutboundMessage{std::move(topic), std::move(payload), PublishOptions{.qos = qos}};
}

const PublishAck& as_ack(const Packet& packet, PacketType type) {
  REQUIRE(std::holds_alternative<PublishAck>(packet));
  const auto& ack = std::get<PublishAck>(packet);
  REQUIRE(to_string(ack.type) == std::string(to_string(type)));
  return ack;
}

const Publish& as_publish(const Packet& packet) {
  REQUIRE(std::holds_alternative<Publish>(packet));
  return std::get<Publish>(packet);
}

std::vector<std::uint16_t> ack_ids(const std::vector<Packet>& packets, PacketType type) {
  std::vector<std::uint16_t> ids;
  for (const auto& packet : packets) ids.push_back(as_ack(packet, type).packet_id);
  return ids;
}

// The session closed for a protocol violation with `reason_code` (MQTT 5: after a DISCONNECT).
void require_protocol_error(Broker& broker, std::uint8_t reason_code) {
  auto packets = broker.written();
  REQUIRE_FALSE(packets.empty());
  REQUIRE(std::holds_alternative<Disconnect>(packets.back()));
  CHECK(std::get<Disconnect>(packets.back()).reason_code == reason_code);
  auto events = broker.events();
  REQUIRE_FALSE(events.empty());
  REQUIRE(std::holds_alternative<Closed>(events.back()));
  const auto& closed = std::get<Closed>(events.back());
  CHECK(closed.protocol_error);
  CHECK(closed.reason_code == reason_code);
  CHECK_FALSE(broker.session.connected());
}

}  // namespace

// ---------------------------------------------------------------------------- CONNECT, CONNACK

TEST_CASE("session: MQTT 5 CONNECT carries our limits", "[session]") {
  SessionOptions options = v5_options();
  options.keep_alive_s = 45;
  options.session_expiry_s = 600;
  options.receive_maximum = 50;
  options.maximum_packet_size = 4096;
  options.username = "user";
  options.password = "secret";
  options.will = Will{"will/topic", "gone", 1, false, {}};
  Broker broker(options);
  broker.open();
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  const auto& connect = std::get<Connect>(packets[0]);
  CHECK(connect.version == Version::v5);
  CHECK(connect.client_id == "client-1");
  CHECK(connect.clean_start);
  CHECK(connect.keep_alive_s == 45);
  CHECK(connect.username == "user");
  CHECK(connect.password == "secret");
  REQUIRE(connect.will);
  CHECK(connect.will->topic == "will/topic");
  CHECK(connect.properties.session_expiry_interval == 600u);
  CHECK(connect.properties.receive_maximum == 50);
  CHECK(connect.properties.maximum_packet_size == 4096u);
  CHECK(connect.properties.topic_alias_maximum == 0);
  CHECK_FALSE(connect.properties.request_problem_information);
  CHECK_FALSE(broker.session.connected());
}

TEST_CASE("session: MQTT 5 CONNECT leaves out a zero session expiry", "[session]") {
  Broker broker(v5_options());
  broker.open();
  auto packets = broker.written();
  CHECK_FALSE(std::get<Connect>(packets.at(0)).properties.session_expiry_interval);
}

TEST_CASE("session: MQTT 3.1.1 CONNECT has no properties", "[session]") {
  SessionOptions options = v5_options();
  options.version = Version::v311;
  options.clean_start = false;
  options.keep_alive_s = 20;
  Broker broker(options);
  broker.open();
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  const auto& connect = std::get<Connect>(packets[0]);
  CHECK(connect.version == Version::v311);
  CHECK_FALSE(connect.clean_start);
  CHECK(connect.keep_alive_s == 20);
  CHECK(connect.properties == Properties{});
}

TEST_CASE("session: CONNACK fills the server's limits, defaults where it said nothing", "[session]") {
  SessionOptions options = v5_options();
  options.keep_alive_s = 30;
  Broker broker(options);
  broker.open();
  broker.written();
  Properties properties;
  properties.receive_maximum = 10;
  properties.maximum_qos = 1;
  properties.server_keep_alive = 5;
  properties.assigned_client_identifier = "assigned";
  broker.send(connack_with(properties));
  auto events = broker.events();
  REQUIRE(events.size() == 2);  // Connected, Subscribed (nothing to subscribe)
  const auto& server = std::get<Connected>(events[0]).server;
  CHECK(server.receive_maximum == 10);
  CHECK(server.maximum_qos == 1);
  CHECK(server.keep_alive_s == 5);  // [MQTT-3.2.2-21]
  CHECK(server.maximum_packet_size == 268'435'460u);
  CHECK(server.retain_available);
  CHECK(server.topic_alias_maximum == 0);
  CHECK(server.assigned_client_identifier == "assigned");
  CHECK(std::holds_alternative<Subscribed>(events[1]));
  CHECK(broker.session.server().keep_alive_s == 5);
}

TEST_CASE("session: CONNACK is followed by one SUBSCRIBE per subscription, then Subscribed", "[session]") {
  SessionOptions options = v5_options();
  options.subscriptions = {{"a/+", 1}, {"b/#", 2}};
  Broker broker(options);
  auto packets = broker.connect();
  REQUIRE(packets.size() == 2);
  const auto& first = std::get<Subscribe>(packets[0]);
  const auto& second = std::get<Subscribe>(packets[1]);
  REQUIRE(first.topics.size() == 1);
  CHECK(first.topics[0].filter == "a/+");
  CHECK(first.topics[0].qos == 1);
  CHECK(first.topics[0].retain_handling == 1);
  CHECK(first.properties.subscription_identifiers == std::vector<std::uint32_t>{1});
  CHECK(second.topics[0].filter == "b/#");
  CHECK(second.properties.subscription_identifiers == std::vector<std::uint32_t>{2});
  CHECK(first.packet_id != second.packet_id);

  broker.send(Suback{first.packet_id, {0x01}, {}});
  CHECK(broker.events().empty());
  broker.send(Suback{second.packet_id, {0x87}, {}});
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  const auto& subscribed = std::get<Subscribed>(events[0]);
  REQUIRE(subscribed.refused.size() == 1);
  CHECK(subscribed.refused[0].first == "b/#");
  CHECK(subscribed.refused[0].second == 0x87);
}

TEST_CASE("session: no subscription identifiers when the server has none", "[session]") {
  SessionOptions options = v5_options();
  options.subscriptions = {{"a", 1}};
  Broker broker(options);
  Properties properties;
  properties.subscription_identifiers_available = 0;
  auto packets = broker.connect(connack_with(properties));
  REQUIRE(packets.size() == 1);
  CHECK(std::get<Subscribe>(packets[0]).properties.subscription_identifiers.empty());
}

TEST_CASE("session: a refused CONNECT", "[session]") {
  SECTION("MQTT 5") {
    Broker broker(v5_options());
    broker.open();
    broker.written();
    Connack connack;
    connack.reason_code = reason::not_authorized;
    connack.properties.reason_string = "bad password";
    broker.send(connack);
    auto events = broker.events();
    REQUIRE(events.size() == 2);
    const auto& refused = std::get<ConnectRefused>(events[0]);
    CHECK(refused.reason_code == 0x87);
    CHECK_THAT(refused.why, Catch::Contains("bad password"));
    CHECK_FALSE(std::get<Closed>(events[1]).protocol_error);
    CHECK_FALSE(broker.session.connected());
    CHECK(broker.written().empty());
  }
  SECTION("MQTT 3.1.1") {
    SessionOptions options = v5_options();
    options.version = Version::v311;
    Broker broker(options);
    broker.open();
    broker.written();
    Connack connack;
    connack.reason_code = 5;
    broker.send(connack);
    auto events = broker.events();
    REQUIRE(events.size() == 2);
    CHECK(std::get<ConnectRefused>(events[0]).reason_code == 5);
    CHECK(std::holds_alternative<Closed>(events[1]));
  }
}

TEST_CASE("session: no CONNACK in time closes", "[session]") {
  SessionOptions options = v5_options();
  options.connack_timeout = 2000ms;
  Broker broker(options);
  broker.open();
  broker.written();
  CHECK(broker.session.next_tick() == t0 + 2000ms);
  broker.session.tick(t0 + 1999ms);
  CHECK(broker.events().empty());
  broker.session.tick(t0 + 2000ms);
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK_THAT(std::get<Closed>(events[0]).why, Catch::Contains("no CONNACK"));
  CHECK(broker.session.next_tick() == Clock::time_point::max());
}

// ---------------------------------------------------------------------------- inbound

TEST_CASE("session: PUBACKs leave in arrival order whatever the order of handling", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(inbound(1, 1));
  auto first = broker.arrived();
  broker.send(inbound(2, 1));
  auto second = broker.arrived();
  broker.send(inbound(3, 1));
  auto third = broker.arrived();
  CHECK(broker.session.counts().acks_pending == 3);
  CHECK(broker.session.counts().in_flight_messages == 3);

  broker.session.handled(third);
  CHECK(broker.written().empty());
  CHECK(broker.session.counts().in_flight_messages == 2);
  broker.session.handled(first);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{1});
  broker.session.handled(second);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{2, 3});
  CHECK(broker.session.counts().acks_pending == 0);
  CHECK(broker.session.counts().in_flight_messages == 0);
}

TEST_CASE("session: an unhandled QoS 0 message holds no PUBACK back", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(inbound(1, 1));
  auto first = broker.arrived();
  broker.send(inbound(0, 0));
  auto qos0 = broker.arrived();
  broker.send(inbound(2, 1));
  auto second = broker.arrived();
  broker.session.handled(second);
  broker.session.handled(first);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{1, 2});
  CHECK(broker.session.counts().in_flight_messages == 1);
  broker.session.handled(qos0);
  CHECK(broker.written().empty());
  CHECK(broker.session.counts().in_flight_messages == 0);
}

TEST_CASE("session: unknown and repeated sequences are ignored", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(inbound(1, 1));
  auto first = broker.arrived();
  broker.session.handled(12345);
  broker.session.handled(0);
  CHECK(broker.written().empty());
  broker.session.handled(first);
  broker.session.handled(first);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{1});
  CHECK(broker.session.counts().in_flight_messages == 0);
}

TEST_CASE("session: inbound MQTT 5 properties reach the message", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  Publish publish = inbound(4, 1);
  publish.retain = true;
  publish.properties.response_topic = "reply/here";
  publish.properties.correlation_data = std::string("\x01\x00\x02", 3);
  publish.properties.user_properties = {{"b", "2"}, {"a", "1"}, {"b", "3"}};
  publish.properties.subscription_identifiers = {2, 5};
  broker.send(publish);
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  const auto& message = std::get<MessageArrived>(events[0]).message;
  CHECK(message.topic == "in/topic");
  CHECK(message.payload == "payload");
  CHECK(message.qos == 1);
  CHECK(message.retained);
  CHECK(message.response_topic == "reply/here");
  CHECK(message.correlation_data == std::string("\x01\x00\x02", 3));
  CHECK(message.user_properties == UserProperties{{"b", "2"}, {"a", "1"}, {"b", "3"}});
  CHECK(message.subscription_ids == std::vector<int>{2, 5});
}

TEST_CASE("session: QoS 2 inbound, PUBREC after handling, a copy answered and not delivered again", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(inbound(7, 2));
  auto sequence = broker.arrived();
  CHECK(broker.written().empty());
  broker.session.handled(sequence);
  CHECK(ack_ids(broker.written(), PacketType::pubrec) == std::vector<std::uint16_t>{7});

  broker.send(inbound(7, 2, "payload", true));  // the PUBREC was lost, says the broker
  CHECK(broker.events().empty());
  CHECK(ack_ids(broker.written(), PacketType::pubrec) == std::vector<std::uint16_t>{7});

  broker.send(ack(PacketType::pubrel, 7));
  CHECK(ack_ids(broker.written(), PacketType::pubcomp) == std::vector<std::uint16_t>{7});

  broker.send(inbound(7, 2));  // the id is free again: a new message
  broker.arrived();
}

TEST_CASE("session: a copy of a QoS 2 message not yet handled is not delivered twice", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(inbound(7, 2));
  auto sequence = broker.arrived();
  broker.send(inbound(7, 2, "payload", true));
  CHECK(broker.events().empty());
  broker.session.handled(sequence);
  CHECK(ack_ids(broker.written(), PacketType::pubrec) == std::vector<std::uint16_t>{7});
}

TEST_CASE("session: PUBREL for an unknown id is answered", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(ack(PacketType::pubrel, 9));
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(as_ack(packets[0], PacketType::pubcomp).reason_code == reason::packet_identifier_not_found);
  CHECK(broker.session.connected());
}

TEST_CASE("session: reading pauses at receive_maximum unhandled messages", "[session]") {
  SessionOptions options = v5_options();
  options.receive_maximum = 2;
  Broker broker(options);
  broker.connect();
  CHECK(broker.session.wants_to_read());
  broker.send(inbound(1, 1));
  auto first = broker.arrived();
  CHECK(broker.session.wants_to_read());
  broker.send(inbound(0, 0));
  auto second = broker.arrived();
  CHECK_FALSE(broker.session.wants_to_read());
  broker.session.handled(second);
  CHECK(broker.session.wants_to_read());
  broker.send(inbound(2, 1));
  broker.arrived();
  CHECK_FALSE(broker.session.wants_to_read());
  broker.session.handled(first);
  CHECK(broker.session.wants_to_read());
}

TEST_CASE("session: reading pauses at max_in_flight_bytes, one message always allowed", "[session]") {
  SessionOptions options = v5_options();
  options.max_in_flight_bytes = 10;
  Broker broker(options);
  broker.connect();
  broker.send(inbound(1, 1, std::string(6, 'x')));
  auto first = broker.arrived();
  CHECK(broker.session.wants_to_read());
  CHECK(broker.session.counts().in_flight_bytes == 6);
  broker.send(inbound(2, 1, std::string(6, 'x')));
  auto second = broker.arrived();
  CHECK_FALSE(broker.session.wants_to_read());
  broker.session.handled(first);
  broker.session.handled(second);
  CHECK(broker.session.wants_to_read());
  broker.send(inbound(3, 1, std::string(100, 'x')));  // larger than the limit: still delivered
  auto large = broker.arrived();
  CHECK_FALSE(broker.session.wants_to_read());
  broker.session.handled(large);
  CHECK(broker.session.wants_to_read());
  CHECK(broker.session.counts().in_flight_bytes == 0);
}

TEST_CASE("session: more unacknowledged QoS 1 messages than our receive maximum are taken, said once", "[session]") {
  // The standard would have us DISCONNECT 0x93 [MQTT-3.3.4-9]; mosquitto 2.0.11 overruns a small
  // Receive Maximum under load, so the session reports it and keeps the connection (session.cpp).
  SessionOptions options = v5_options();
  options.receive_maximum = 2;
  Broker broker(options);
  broker.connect();
  broker.send(inbound(1, 1));
  broker.send(inbound(2, 1));
  broker.events();
  broker.send(inbound(3, 1));
  auto events = broker.events();
  REQUIRE(events.size() == 2);
  CHECK(std::get<ReceiveMaximumOverrun>(events[0]).receive_maximum == 2);
  CHECK(std::holds_alternative<MessageArrived>(events[1]));
  CHECK_FALSE(broker.session.wants_to_read());
  broker.send(inbound(4, 1));
  events = broker.events();
  REQUIRE(events.size() == 1);  // said once per connection
  CHECK(std::holds_alternative<MessageArrived>(events[0]));
  CHECK(broker.written().empty());
  CHECK(broker.session.connected());
}

TEST_CASE("session: an oversized inbound PUBLISH is refused and still acknowledged (3.1.1)", "[session]") {
  SessionOptions options = v5_options();
  options.version = Version::v311;
  options.maximum_packet_size = 64;
  Broker broker(options);
  broker.connect();
  broker.send(inbound(1, 1));
  auto first = broker.arrived();
  broker.send(inbound(2, 1, std::string(200, 'x')));
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  const auto& refused = std::get<MessageRefused>(events[0]);
  CHECK(refused.topic == "in/topic");
  CHECK(refused.size > 200);
  CHECK(broker.written().empty());  // in order: after the first
  broker.session.handled(first);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{1, 2});
  CHECK(broker.session.connected());
}

// ---------------------------------------------------------------------------- outbound

TEST_CASE("session: QoS 0 publishes go at once, and while disconnected they wait", "[session]") {
  Broker broker(v5_options());
  CHECK(broker.session.publish(outbound("early", 0)));
  CHECK(broker.session.counts().publishes_queued == 1);
  auto packets = broker.connect();
  REQUIRE(packets.size() == 1);
  CHECK(as_publish(packets[0]).topic == "early");
  CHECK(broker.session.publish(outbound("now", 0)));
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(as_publish(packets[0]).topic == "now");
  CHECK(as_publish(packets[0]).packet_id == 0);
}

TEST_CASE("session: MQTT 5 publish properties are sent", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  OutboundMessage message{"t", "p",
                          PublishOptions{.qos = 1,
                                         .retain = true,
                                         .response_topic = "r",
                                         .correlation_data = "c",
                                         .user_properties = {{"k", "v"}}}};
  CHECK(broker.session.publish(message));
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  const auto& publish = as_publish(packets[0]);
  CHECK(publish.qos == 1);
  CHECK(publish.retain);
  CHECK_FALSE(publish.dup);
  CHECK(publish.packet_id != 0);
  CHECK(publish.properties.response_topic == "r");
  CHECK(publish.properties.correlation_data == "c");
  CHECK(publish.properties.user_properties == StringPairs{{"k", "v"}});
}

TEST_CASE("session: outbound QoS 1 stays within the server's receive maximum", "[session]") {
  Broker broker(v5_options());
  Properties properties;
  properties.receive_maximum = 2;
  broker.connect(connack_with(properties));
  for (const char* topic : {"a", "b", "c"}) CHECK(broker.session.publish(outbound(topic, 1)));
  auto packets = broker.written();
  REQUIRE(packets.size() == 2);
  CHECK(broker.session.counts().publishes_in_flight == 2);
  CHECK(broker.session.counts().publishes_queued == 1);
  broker.send(ack(PacketType::puback, as_publish(packets[0]).packet_id));
  auto more = broker.written();
  REQUIRE(more.size() == 1);
  CHECK(as_publish(more[0]).topic == "c");
  std::set<std::uint16_t> ids{as_publish(packets[0]).packet_id, as_publish(packets[1]).packet_id,
                              as_publish(more[0]).packet_id};
  CHECK(ids.size() == 3);
  CHECK(ids.count(0) == 0);
}

TEST_CASE("session: outbound QoS 2 flow", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.session.publish(outbound("a", 2));
  broker.session.publish(outbound("b", 2));
  auto packets = broker.written();
  REQUIRE(packets.size() == 2);
  auto a = as_publish(packets[0]).packet_id;
  auto b = as_publish(packets[1]).packet_id;
  broker.send(ack(PacketType::pubrec, a));
  CHECK(ack_ids(broker.written(), PacketType::pubrel) == std::vector<std::uint16_t>{a});
  broker.send(ack(PacketType::pubcomp, a));
  broker.send(ack(PacketType::pubrec, b, reason::quota_exceeded));  // refused: done, no PUBREL
  CHECK(broker.written().empty());
  CHECK(broker.session.counts().publishes_in_flight == 0);
  CHECK(broker.session.connected());
}

TEST_CASE("session: a publish larger than the server's maximum packet size is refused", "[session]") {
  Broker broker(v5_options());
  Properties properties;
  properties.maximum_packet_size = 256;
  broker.connect(connack_with(properties));
  CHECK_FALSE(broker.session.publish(outbound("big", 1, std::string(300, 'x'))));
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  const auto& refused = std::get<PublishRefused>(events[0]);
  CHECK(refused.message.topic == "big");
  CHECK(refused.message.payload.size() == 300);
  CHECK_THAT(refused.why, Catch::Contains("maximum packet size") && Catch::Contains("> 256 bytes"));
  CHECK(broker.written().empty());
  CHECK(broker.session.publish(outbound("small", 1, std::string(200, 'x'))));
  CHECK(broker.written().size() == 1);
}

TEST_CASE("session: a queued publish too large for the next broker is refused when sent", "[session]") {
  Broker broker(v5_options());
  CHECK(broker.session.publish(outbound("big", 1, std::string(300, 'x'))));
  Properties properties;
  properties.maximum_packet_size = 256;
  broker.open();
  broker.written();
  broker.send(connack_with(properties));
  auto events = broker.events();
  REQUIRE(events.size() == 3);  // Connected, Subscribed, PublishRefused
  CHECK(std::holds_alternative<PublishRefused>(events[2]));
  CHECK(broker.written().empty());
  CHECK(broker.session.counts().publishes_queued == 0);
}

TEST_CASE("session: QoS lowered to the server's maximum QoS", "[session]") {
  Broker broker(v5_options());
  Properties properties;
  properties.maximum_qos = 1;
  broker.connect(connack_with(properties));
  broker.session.publish(outbound("t", 2));
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(as_publish(packets[0]).qos == 1);
}

TEST_CASE("session: retain refused when the server has no retain", "[session]") {
  Broker broker(v5_options());
  Properties properties;
  properties.retain_available = 0;
  broker.connect(connack_with(properties));
  OutboundMessage message = outbound("t", 0);
  message.options.retain = true;
  CHECK_FALSE(broker.session.publish(message));
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::get<PublishRefused>(events[0]).why == "the broker does not support retain");
}

TEST_CASE("session: the queue is bounded", "[session]") {
  SessionOptions options = v5_options();
  options.max_buffered = 2;
  Broker broker(options);
  CHECK(broker.session.publish(outbound("a", 1)));
  CHECK(broker.session.publish(outbound("b", 1)));
  CHECK_FALSE(broker.session.publish(outbound("c", 1)));
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::get<PublishRefused>(events[0]).why == "queue full");
  CHECK(broker.session.counts().publishes_queued == 2);
}

TEST_CASE("session: outbound topic aliases up to the server's maximum", "[session]") {
  Broker broker(v5_options());
  Properties properties;
  properties.topic_alias_maximum = 2;
  broker.connect(connack_with(properties));
  for (const char* topic : {"a/long/topic", "b/long/topic", "c/long/topic", "a/long/topic", "b/long/topic",
                            "c/long/topic"}) {
    broker.session.publish(outbound(topic, 0));
  }
  auto packets = broker.written();
  REQUIRE(packets.size() == 6);
  auto check = [&](std::size_t i, const char* topic, std::optional<std::uint16_t> alias) {
    INFO("publish " << i);
    CHECK(as_publish(packets[i]).topic == topic);
    CHECK(as_publish(packets[i]).properties.topic_alias == alias);
  };
  check(0, "a/long/topic", 1);
  check(1, "b/long/topic", 2);
  check(2, "c/long/topic", std::nullopt);
  check(3, "", 1);
  check(4, "", 2);
  check(5, "c/long/topic", std::nullopt);
}

TEST_CASE("session: topic aliases start again on a new connection, and resends carry the whole topic", "[session]") {
  Broker broker(kept_session_options());
  Properties properties;
  properties.topic_alias_maximum = 5;
  broker.connect(connack_with(properties));
  broker.session.publish(outbound("t", 1));
  broker.session.publish(outbound("t", 1));
  auto packets = broker.written();
  REQUIRE(packets.size() == 2);
  CHECK(as_publish(packets[1]).topic.empty());
  broker.reconnect(connack_with(properties, true));
  packets = broker.written();
  REQUIRE(packets.size() == 2);
  for (const auto& packet : packets) {
    CHECK(as_publish(packet).dup);
    CHECK(as_publish(packet).topic == "t");
    CHECK_FALSE(as_publish(packet).properties.topic_alias);
  }
  broker.session.publish(outbound("t", 0));
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(as_publish(packets[0]).topic == "t");  // first use on this connection
  CHECK(as_publish(packets[0]).properties.topic_alias == 1);
}

TEST_CASE("session: a reconnect with session present resends with DUP and PUBREL, in order", "[session]") {
  Broker broker(kept_session_options());
  broker.connect();
  broker.session.publish(outbound("one", 1));
  broker.session.publish(outbound("two", 2));
  broker.session.publish(outbound("three", 2));
  auto packets = broker.written();
  REQUIRE(packets.size() == 3);
  std::uint16_t ids[3] = {as_publish(packets[0]).packet_id, as_publish(packets[1]).packet_id,
                          as_publish(packets[2]).packet_id};
  broker.send(ack(PacketType::pubrec, ids[2]));
  CHECK(ack_ids(broker.written(), PacketType::pubrel) == std::vector<std::uint16_t>{ids[2]});

  broker.reconnect(connack_with({}, true));
  packets = broker.written();
  REQUIRE(packets.size() == 3);
  CHECK(as_publish(packets[0]).topic == "one");
  CHECK(as_publish(packets[0]).dup);
  CHECK(as_publish(packets[0]).packet_id == ids[0]);
  CHECK(as_publish(packets[1]).topic == "two");
  CHECK(as_publish(packets[1]).dup);
  CHECK(as_publish(packets[1]).packet_id == ids[1]);
  CHECK(as_ack(packets[2], PacketType::pubrel).packet_id == ids[2]);

  broker.send(ack(PacketType::puback, ids[0]));
  broker.send(ack(PacketType::pubrec, ids[1]));
  broker.send(ack(PacketType::pubcomp, ids[2]));
  CHECK(ack_ids(broker.written(), PacketType::pubrel) == std::vector<std::uint16_t>{ids[1]});
  broker.send(ack(PacketType::pubcomp, ids[1]));
  CHECK(broker.session.counts().publishes_in_flight == 0);
}

TEST_CASE("session: a reconnect without session present sends them again as new messages", "[session]") {
  Broker broker(kept_session_options());
  Properties properties;
  properties.receive_maximum = 2;
  broker.connect(connack_with(properties));
  broker.session.publish(outbound("one", 1));
  broker.session.publish(outbound("two", 2));
  broker.session.publish(outbound("three", 1));
  auto packets = broker.written();
  REQUIRE(packets.size() == 2);
  broker.reconnect(connack_with({}, false));
  packets = broker.written();
  REQUIRE(packets.size() == 3);  // the quota is the default 65535 now
  const char* topics[] = {"one", "two", "three"};
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(as_publish(packets[i]).topic == topics[i]);
    CHECK_FALSE(as_publish(packets[i]).dup);
  }
}

TEST_CASE("session: a redelivered copy of a message still being handled is not delivered again", "[session]") {
  Broker broker(kept_session_options());
  broker.connect();
  broker.send(inbound(5, 1));
  auto first = broker.arrived();
  broker.reconnect(connack_with({}, true));
  broker.events();
  broker.written();
  CHECK(broker.session.counts().acks_pending == 1);
  broker.send(inbound(5, 1, "payload", true));
  CHECK(broker.events().empty());
  broker.send(inbound(6, 1));
  auto second = broker.arrived();
  broker.session.handled(second);
  CHECK(broker.written().empty());  // 5 came first
  broker.session.handled(first);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{5, 6});
  CHECK(broker.session.counts().acks_pending == 0);
  CHECK(broker.session.counts().in_flight_messages == 0);
}

TEST_CASE("session: a message handled while disconnected is acknowledged when its copy comes", "[session]") {
  Broker broker(kept_session_options());
  broker.connect();
  broker.send(inbound(5, 2));
  auto first = broker.arrived();
  broker.session.connection_closed();
  broker.session.handled(first);  // no connection: the PUBREC waits
  CHECK(broker.session.counts().in_flight_messages == 0);
  broker.open();
  broker.written();
  broker.send(connack_with({}, true));
  broker.events();
  CHECK(broker.written().empty());
  broker.send(inbound(5, 2, "payload", true));
  CHECK(broker.events().empty());
  CHECK(ack_ids(broker.written(), PacketType::pubrec) == std::vector<std::uint16_t>{5});
  broker.send(ack(PacketType::pubrel, 5));
  CHECK(ack_ids(broker.written(), PacketType::pubcomp) == std::vector<std::uint16_t>{5});
}

TEST_CASE("session: without session present the pending acknowledgements are forgotten", "[session]") {
  Broker broker(kept_session_options());
  broker.connect();
  broker.send(inbound(5, 1));
  auto first = broker.arrived();
  broker.reconnect(connack_with({}, false));
  broker.events();
  broker.written();
  CHECK(broker.session.counts().acks_pending == 0);
  broker.send(inbound(5, 1));  // a new message with the same id
  auto second = broker.arrived();
  broker.session.handled(first);
  CHECK(broker.written().empty());
  broker.session.handled(second);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{5});
  CHECK(broker.session.counts().in_flight_messages == 0);
}

TEST_CASE("session: an acknowledgement written before the close is not held again", "[session]") {
  Broker broker(kept_session_options());
  broker.connect();
  broker.send(inbound(5, 1));
  broker.session.handled(broker.arrived());  // PUBACK into outgoing(), maybe never read by the broker
  broker.reconnect(connack_with({}, true));
  broker.events();
  broker.written();
  broker.send(inbound(5, 1, "payload", true));
  auto again = broker.arrived();  // QoS 1: at least once
  broker.session.handled(again);
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{5});
}

// ---------------------------------------------------------------------------- the broker breaks the protocol

TEST_CASE("session: a packet before CONNACK", "[session]") {
  Broker broker(v5_options());
  broker.open();
  broker.written();
  broker.send(inbound(0, 0));
  require_protocol_error(broker, reason::protocol_error);
  CHECK(broker.events().empty());
}

TEST_CASE("session: a second CONNACK", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send(Connack{});
  require_protocol_error(broker, reason::protocol_error);
}

TEST_CASE("session: session present after a clean start", "[session]") {
  Broker broker(v5_options());
  broker.open();
  broker.written();
  broker.send(connack_with({}, true));
  require_protocol_error(broker, reason::protocol_error);
}

TEST_CASE("session: an ack for a packet id not in flight", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  SECTION("PUBACK") { broker.send(ack(PacketType::puback, 42)); }
  SECTION("PUBREC") { broker.send(ack(PacketType::pubrec, 42)); }
  SECTION("PUBCOMP") { broker.send(ack(PacketType::pubcomp, 42)); }
  SECTION("PUBCOMP before PUBREC") {
    broker.session.publish(outbound("t", 2));
    auto packets = broker.written();
    broker.send(ack(PacketType::pubcomp, as_publish(packets.at(0)).packet_id));
  }
  require_protocol_error(broker, reason::protocol_error);
}

TEST_CASE("session: QoS 1 PUBLISH with packet id 0", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  // Written by hand: PUBLISH QoS 1, topic "t", packet id 0, no properties.
  broker.send_bytes(std::string("\x32\x06\x00\x01t\x00\x00\x00", 8));
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(std::get<Disconnect>(packets[0]).reason_code >= 0x80);
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::get<Closed>(events[0]).protocol_error);
}

TEST_CASE("session: malformed bytes", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.send_bytes(std::string("\x30\xff\xff\xff\xff\x01", 6));  // a five-byte remaining length
  require_protocol_error(broker, reason::malformed_packet);
  broker.send(inbound(0, 0));  // after the error, nothing more is read
  CHECK(broker.events().empty());
}

TEST_CASE("session: malformed bytes with MQTT 3.1.1 close without DISCONNECT", "[session]") {
  SessionOptions options = v5_options();
  options.version = Version::v311;
  Broker broker(options);
  broker.connect();
  broker.send_bytes(std::string("\x30\xff\xff\xff\xff\x01", 6));
  CHECK(broker.written().empty());
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::get<Closed>(events[0]).protocol_error);
}

TEST_CASE("session: a topic alias from the server", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  Publish publish = inbound(1, 1);
  publish.properties.topic_alias = 1;
  broker.send(publish);
  require_protocol_error(broker, reason::topic_alias_invalid);
}

TEST_CASE("session: AUTH from the server", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  Auth auth;
  auth.reason_code = 0x18;
  auth.properties.authentication_method = "x";
  broker.send(auth);
  require_protocol_error(broker, reason::protocol_error);
}

TEST_CASE("session: the server disconnects", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  Disconnect disconnect;
  disconnect.reason_code = reason::session_taken_over;
  disconnect.properties.reason_string = "another client";
  broker.send(disconnect);
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  const auto& closed = std::get<Closed>(events[0]);
  CHECK_FALSE(closed.protocol_error);
  CHECK_THAT(closed.why, Catch::Contains("another client") && Catch::Contains("taken over"));
  CHECK(broker.written().empty());
}

// ---------------------------------------------------------------------------- keep alive, stop

TEST_CASE("session: keep alive sends PINGREQ and closes without an answer", "[session]") {
  SessionOptions options = v5_options();
  options.keep_alive_s = 10;
  Broker broker(options);
  broker.connect();
  CHECK(broker.session.next_tick() == t0 + 10s);
  broker.session.tick(t0 + 9s);
  CHECK(broker.written().empty());
  broker.session.tick(t0 + 10s);
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(std::holds_alternative<Pingreq>(packets[0]));
  CHECK(broker.session.next_tick() == t0 + 20s);

  SECTION("answered") {
    broker.now = t0 + 11s;
    broker.send(Pingresp{});
    CHECK(broker.session.next_tick() == t0 + 20s);  // 10 s after the PINGREQ was written
    broker.session.tick(t0 + 20s);
    CHECK(std::holds_alternative<Pingreq>(broker.written().at(0)));
    CHECK(broker.events().empty());
  }
  SECTION("not answered") {
    broker.session.tick(t0 + 20s);
    packets = broker.written();
    REQUIRE(packets.size() == 1);
    CHECK(std::get<Disconnect>(packets[0]).reason_code == reason::keep_alive_timeout);
    auto events = broker.events();
    REQUIRE(events.size() == 1);
    CHECK_THAT(std::get<Closed>(events[0]).why, Catch::Contains("keep alive timeout"));
  }
}

TEST_CASE("session: the server's keep alive wins, and zero disables", "[session]") {
  SessionOptions options = v5_options();
  options.keep_alive_s = 10;
  Broker broker(options);
  Properties properties;
  properties.server_keep_alive = 0;
  broker.connect(connack_with(properties));
  CHECK(broker.session.next_tick() == Clock::time_point::max());
  broker.session.tick(t0 + 1h);
  CHECK(broker.written().empty());
}

TEST_CASE("session: disconnect and unsubscribe_all", "[session]") {
  SessionOptions options = v5_options();
  options.subscriptions = {{"a", 1}, {"b", 0}};
  Broker broker(options);
  auto packets = broker.connect();
  REQUIRE(packets.size() == 2);
  broker.send(Suback{std::get<Subscribe>(packets[0]).packet_id, {1}, {}});
  broker.send(Suback{std::get<Subscribe>(packets[1]).packet_id, {0}, {}});
  CHECK(std::get<Subscribed>(broker.events().at(0)).refused.empty());
  broker.session.unsubscribe_all();
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  const auto& unsubscribe = std::get<Unsubscribe>(packets[0]);
  CHECK(unsubscribe.filters == std::vector<std::string>{"a", "b"});
  broker.send(Unsuback{unsubscribe.packet_id, {0, 0}, {}});
  CHECK(broker.events().empty());
  broker.session.disconnect(reason::disconnect_with_will);
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(std::get<Disconnect>(packets[0]).reason_code == reason::disconnect_with_will);
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::get<Closed>(events[0]).reason_code == reason::disconnect_with_will);
  CHECK_FALSE(broker.session.connected());
}

// ---------------------------------------------------------------------------- more edges

TEST_CASE("session: a payload above max_message_bytes is refused and acknowledged in order", "[session]") {
  SessionOptions options = v5_options();
  options.max_message_bytes = 16;
  Broker broker(options);
  broker.connect();
  broker.send(inbound(1, 1));
  auto first = broker.arrived();
  broker.send(inbound(2, 2, std::string(17, 'x')));
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::get<MessageRefused>(events[0]).size == 17);
  CHECK(broker.written().empty());
  broker.session.handled(first);
  auto packets = broker.written();
  REQUIRE(packets.size() == 2);
  CHECK(as_ack(packets[0], PacketType::puback).packet_id == 1);
  CHECK(as_ack(packets[1], PacketType::pubrec).packet_id == 2);
  CHECK(broker.session.counts().in_flight_messages == 0);
  CHECK(broker.session.counts().acks_pending == 0);
}

TEST_CASE("session: the keep alive deadline waits while the shell does not read", "[session]") {
  SessionOptions options = v5_options();
  options.keep_alive_s = 10;
  options.receive_maximum = 1;
  Broker broker(options);
  broker.connect();
  broker.send(inbound(1, 1));
  auto sequence = broker.arrived();
  CHECK_FALSE(broker.session.wants_to_read());
  broker.session.tick(t0 + 10s);
  CHECK(std::holds_alternative<Pingreq>(broker.written().at(0)));
  broker.session.tick(t0 + 20s);  // the PINGRESP may be waiting unread
  CHECK(broker.written().empty());
  CHECK(broker.events().empty());
  CHECK(broker.session.next_tick() == t0 + 30s);
  broker.session.handled(sequence);
  broker.session.tick(t0 + 30s);
  auto events = broker.events();
  REQUIRE(events.size() == 1);
  CHECK(std::holds_alternative<Closed>(events[0]));
}

TEST_CASE("session: connection_opened without connection_closed starts afresh", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  broker.session.publish(outbound("t", 0));
  broker.open();  // the shell lost the old socket without saying so
  auto packets = broker.written();
  REQUIRE(packets.size() == 1);  // the unwritten PUBLISH went with the old connection
  CHECK(std::holds_alternative<Connect>(packets[0]));
  CHECK_FALSE(broker.session.connected());
  broker.send(Connack{});
  CHECK(broker.session.connected());
}

TEST_CASE("session: a SUBACK for a packet id we did not use", "[session]") {
  SessionOptions options = v5_options();
  options.subscriptions = {{"a", 1}};
  Broker broker(options);
  auto packets = broker.connect();
  auto id = std::get<Subscribe>(packets.at(0)).packet_id;
  broker.send(Suback{static_cast<std::uint16_t>(id + 1), {0}, {}});
  require_protocol_error(broker, reason::protocol_error);
}

TEST_CASE("session: MQTT 3.1.1 SUBSCRIBE, PUBLISH and DISCONNECT carry no properties", "[session]") {
  SessionOptions options = v5_options();
  options.version = Version::v311;
  options.subscriptions = {{"a/#", 1}};
  Broker broker(options);
  Connack connack;
  auto packets = broker.connect(connack);
  REQUIRE(packets.size() == 1);
  const auto& subscribe = std::get<Subscribe>(packets[0]);
  CHECK(subscribe.topics.at(0).filter == "a/#");
  CHECK(subscribe.properties == Properties{});
  OutboundMessage message{"t", "p", PublishOptions{.qos = 1, .response_topic = "r", .user_properties = {{"k", "v"}}}};
  broker.session.publish(message);
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(as_publish(packets[0]).properties == Properties{});
  broker.session.disconnect();
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(std::holds_alternative<Disconnect>(packets[0]));
  auto events = broker.events();
  REQUIRE_FALSE(events.empty());
  CHECK(std::get<Closed>(events.back()).reason_code == 0);
}

TEST_CASE("session: a message handled while the session is closing is acknowledged on its copy", "[session]") {
  Broker broker(kept_session_options());
  broker.connect();
  broker.send(inbound(3, 1));
  auto sequence = broker.arrived();
  broker.send(Disconnect{reason::server_busy, {}});
  CHECK(std::holds_alternative<Closed>(broker.events().at(0)));
  broker.session.handled(sequence);  // after Closed, before connection_closed()
  CHECK(broker.written().empty());
  broker.reconnect(connack_with({}, true));
  broker.events();
  broker.written();
  broker.send(inbound(3, 1, "payload", true));
  CHECK(broker.events().empty());
  CHECK(ack_ids(broker.written(), PacketType::puback) == std::vector<std::uint16_t>{3});
}

TEST_CASE("session: packet ids skip those in use and run out without harm", "[session]") {
  Broker broker(v5_options());
  broker.connect();
  for (int i = 0; i < 65535; ++i) broker.session.publish(outbound("t", 1));
  auto packets = broker.written();
  REQUIRE(packets.size() == 65535);
  CHECK(as_publish(packets.front()).packet_id == 1);
  CHECK(as_publish(packets.back()).packet_id == 65535);
  CHECK(broker.session.publish(outbound("t", 1)));  // every id is in use: it waits
  CHECK(broker.written().empty());
  CHECK(broker.session.counts().publishes_queued == 1);
  broker.send(ack(PacketType::puback, 7));
  packets = broker.written();
  REQUIRE(packets.size() == 1);
  CHECK(as_publish(packets[0]).packet_id == 7);
  CHECK(broker.session.counts().publishes_in_flight == 65535);
}

TEST_CASE("session: take_outgoing replaces the caller's buffer, and has_outgoing says when to write", "[session]") {
  Broker broker(v5_options());
  CHECK_FALSE(broker.session.has_outgoing());
  broker.open();
  CHECK(broker.session.has_outgoing());
  std::string out = "stale bytes from the last write";
  broker.session.take_outgoing(out);
  CHECK_FALSE(broker.session.has_outgoing());
  PacketReader reader(Version::v5, 1u << 20);
  reader.feed(out);
  auto packet = reader.next();
  REQUIRE(packet);
  CHECK(std::holds_alternative<Connect>(*packet));
  CHECK_FALSE(reader.next());
  CHECK(reader.buffered() == 0);
  broker.session.take_outgoing(out);
  CHECK(out.empty());
}
