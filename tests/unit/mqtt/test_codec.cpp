// The MQTT codec byte by byte: each packet type in both versions against bytes written by hand from
// OASIS MQTT 3.1.1 and 5.0 chapter 3, then decoded back whole and one byte at a time.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "core/mqtt/protocol/reason_code.hpp"
#include "tests/unit/mqtt/codec_test_support.hpp"

using namespace routemq::mqtt;
using routemq::mqtt::test::bytes;
using routemq::mqtt::test::decode_all;
using routemq::mqtt::test::decode_one;
using routemq::mqtt::test::encoded;

namespace {

struct Case {
  const char* name;
  Version version;
  Packet packet;
  std::string wire;
};

Connect connect_311() {
  Connect c;
  c.version = Version::v311;
  c.client_id = "c1";
  c.keep_alive_s = 60;
  c.username = "u";
  c.password = "p";
  c.will = Will{"w", "x", 1, true, {}};
  return c;
}

Connect connect_5() {
  Connect c;
  c.version = Version::v5;
  c.client_id = "c";
  c.keep_alive_s = 30;
  c.properties.session_expiry_interval = 60;
  c.properties.receive_maximum = 10;
  return c;
}

Connect connect_5_with_will() {
  Connect c;
  c.version = Version::v5;
  c.clean_start = false;
  c.client_id = "";
  Will will{"t", "", 2, false, {}};
  will.properties.will_delay_interval = 5;
  c.will = will;
  c.password = "pw";  // MQTT 5 allows a password without a user name (3.1.2.9)
  return c;
}

Connack connack_5_with_properties() {
  Connack c;
  c.properties.assigned_client_identifier = "ab";
  c.properties.topic_alias_maximum = 5;
  return c;
}

Publish publish_311() {
  Publish p;
  p.topic = "a/b";
  p.payload = "hi";
  p.qos = 1;
  p.retain = true;
  p.dup = true;
  p.packet_id = 10;
  return p;
}

Publish publish_5() {
  Publish p;
  p.topic = "t";
  p.payload = "p";
  p.properties.topic_alias = 1;
  p.properties.user_properties = {{"k", "v"}};
  p.properties.subscription_identifiers = {1, 300};
  return p;
}

PublishAck puback_with_reason_string() {
  PublishAck a{PacketType::puback, 7, 0x10, {}};
  a.properties.reason_string = "x";
  return a;
}

Subscribe subscribe_5() {
  Subscribe s;
  s.packet_id = 2;
  s.properties.subscription_identifiers = {5};
  s.topics = {SubscribeTopic{"a", 1, true, true, 2}};
  return s;
}

Disconnect disconnect_with_session_expiry() {
  Disconnect d;
  d.properties.session_expiry_interval = 0;
  return d;
}

Auth auth_continue() {
  Auth a;
  a.reason_code = 0x18;
  a.properties.authentication_method = "m";
  return a;
}

std::vector<Case> cases() {
  const auto v3 = Version::v311;
  const auto v5 = Version::v5;
  return {
      {"3.1.1 CONNECT with will, user name, password", v3, connect_311(),
       bytes({0x10, 0x1A, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xEE, 0x00, 0x3C, 0x00, 0x02, 'c', '1', 0x00, 0x01,
              'w', 0x00, 0x01, 'x', 0x00, 0x01, 'u', 0x00, 0x01, 'p'})},
      {"5 CONNECT with properties", v5, connect_5(),
       bytes({0x10, 0x16, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x1E, 0x08, 0x11, 0x00, 0x00, 0x00, 0x3C,
              0x21, 0x00, 0x0A, 0x00, 0x01, 'c'})},
      {"5 CONNECT with will properties, password alone", v5, connect_5_with_will(),
       bytes({0x10, 0x1C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x18, 0x00,
              0x00, 0x00, 0x05, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x02, 'p', 'w'})},
      {"3.1.1 CONNACK session present", v3, Connack{true, 0, {}}, bytes({0x20, 0x02, 0x01, 0x00})},
      {"3.1.1 CONNACK refused", v3, Connack{false, 5, {}}, bytes({0x20, 0x02, 0x00, 0x05})},
      {"5 CONNACK without properties", v5, Connack{}, bytes({0x20, 0x03, 0x00, 0x00, 0x00})},
      {"5 CONNACK with properties", v5, connack_5_with_properties(),
       bytes({0x20, 0x0B, 0x00, 0x00, 0x08, 0x12, 0x00, 0x02, 'a', 'b', 0x22, 0x00, 0x05})},
      {"3.1.1 PUBLISH QoS 1 dup retain", v3, publish_311(),
       bytes({0x3B, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'})},
      {"3.1.1 PUBLISH QoS 0 empty payload", v3, Publish{"t", "", 0, false, false, 0, {}},
       bytes({0x30, 0x03, 0x00, 0x01, 't'})},
      {"5 PUBLISH with subscription identifiers, alias, user property", v5, publish_5(),
       bytes({0x30, 0x14, 0x00, 0x01, 't', 0x0F, 0x0B, 0x01, 0x0B, 0xAC, 0x02, 0x23, 0x00, 0x01, 0x26, 0x00, 0x01, 'k',
              0x00, 0x01, 'v', 'p'})},
      {"5 PUBLISH QoS 2 alias only, empty topic", v5, [] {
         Publish p{"", "z", 2, false, false, 0x1234, {}};
         p.properties.topic_alias = 3;
         return p;
       }(),
       bytes({0x34, 0x09, 0x00, 0x00, 0x12, 0x34, 0x03, 0x23, 0x00, 0x03, 'z'})},
      {"3.1.1 PUBACK", v3, PublishAck{PacketType::puback, 7, 0, {}}, bytes({0x40, 0x02, 0x00, 0x07})},
      {"3.1.1 PUBREC", v3, PublishAck{PacketType::pubrec, 7, 0, {}}, bytes({0x50, 0x02, 0x00, 0x07})},
      {"3.1.1 PUBREL", v3, PublishAck{PacketType::pubrel, 7, 0, {}}, bytes({0x62, 0x02, 0x00, 0x07})},
      {"3.1.1 PUBCOMP", v3, PublishAck{PacketType::pubcomp, 7, 0, {}}, bytes({0x70, 0x02, 0x00, 0x07})},
      {"5 PUBACK success short form", v5, PublishAck{PacketType::puback, 7, 0, {}}, bytes({0x40, 0x02, 0x00, 0x07})},
      {"5 PUBREL success short form", v5, PublishAck{PacketType::pubrel, 0xFFFF, 0, {}},
       bytes({0x62, 0x02, 0xFF, 0xFF})},
      {"5 PUBACK reason without properties", v5, PublishAck{PacketType::puback, 7, 0x10, {}},
       bytes({0x40, 0x03, 0x00, 0x07, 0x10})},
      {"5 PUBREC refused", v5, PublishAck{PacketType::pubrec, 1, 0x80, {}}, bytes({0x50, 0x03, 0x00, 0x01, 0x80})},
      {"5 PUBCOMP not found", v5, PublishAck{PacketType::pubcomp, 1, 0x92, {}},
       bytes({0x70, 0x03, 0x00, 0x01, 0x92})},
      {"5 PUBACK with reason string", v5, puback_with_reason_string(),
       bytes({0x40, 0x08, 0x00, 0x07, 0x10, 0x04, 0x1F, 0x00, 0x01, 'x'})},
      {"3.1.1 SUBSCRIBE", v3, Subscribe{1, {{"a/#", 1}, {"b", 2}}, {}},
       bytes({0x82, 0x0C, 0x00, 0x01, 0x00, 0x03, 'a', '/', '#', 0x01, 0x00, 0x01, 'b', 0x02})},
      {"5 SUBSCRIBE with options and identifier", v5, subscribe_5(),
       bytes({0x82, 0x09, 0x00, 0x02, 0x02, 0x0B, 0x05, 0x00, 0x01, 'a', 0x2D})},
      {"3.1.1 SUBACK", v3, Suback{1, {0x01, 0x80}, {}}, bytes({0x90, 0x04, 0x00, 0x01, 0x01, 0x80})},
      {"5 SUBACK", v5, Suback{2, {0x01, 0xA2}, {}}, bytes({0x90, 0x05, 0x00, 0x02, 0x00, 0x01, 0xA2})},
      {"3.1.1 UNSUBSCRIBE", v3, Unsubscribe{3, {"a"}, {}}, bytes({0xA2, 0x05, 0x00, 0x03, 0x00, 0x01, 'a'})},
      {"5 UNSUBSCRIBE", v5, Unsubscribe{3, {"a"}, {}}, bytes({0xA2, 0x06, 0x00, 0x03, 0x00, 0x00, 0x01, 'a'})},
      {"3.1.1 UNSUBACK", v3, Unsuback{3, {}, {}}, bytes({0xB0, 0x02, 0x00, 0x03})},
      {"5 UNSUBACK", v5, Unsuback{3, {0x11}, {}}, bytes({0xB0, 0x04, 0x00, 0x03, 0x00, 0x11})},
      {"3.1.1 PINGREQ", v3, Pingreq{}, bytes({0xC0, 0x00})},
      {"5 PINGREQ", v5, Pingreq{}, bytes({0xC0, 0x00})},
      {"3.1.1 PINGRESP", v3, Pingresp{}, bytes({0xD0, 0x00})},
      {"5 PINGRESP", v5, Pingresp{}, bytes({0xD0, 0x00})},
      {"3.1.1 DISCONNECT", v3, Disconnect{}, bytes({0xE0, 0x00})},
      {"5 DISCONNECT normal", v5, Disconnect{}, bytes({0xE0, 0x00})},
      {"5 DISCONNECT with will", v5, Disconnect{0x04, {}}, bytes({0xE0, 0x01, 0x04})},
      {"5 DISCONNECT with session expiry", v5, disconnect_with_session_expiry(),
       bytes({0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00})},
      {"5 AUTH success", v5, Auth{}, bytes({0xF0, 0x00})},
      {"5 AUTH continue", v5, auth_continue(), bytes({0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 'm'})},
  };
}

}  // namespace

TEST_CASE("each packet encodes to the bytes of the standard, in both versions", "[mqtt][codec]") {
  for (const auto& c : cases()) {
    INFO(c.name);
    CHECK(encoded(c.packet, c.version) == c.wire);
    CHECK(encoded_size(c.packet, c.version) == c.wire.size());
  }
}

TEST_CASE("each packet decodes from the bytes of the standard, whole and one byte at a time", "[mqtt][codec]") {
  for (const auto& c : cases()) {
    INFO(c.name);
    for (std::size_t step : {0, 1, 2, 3}) {
      INFO("step " << step);
      auto packet = decode_one(c.wire, c.version, step);
      REQUIRE(packet);
      CHECK(*packet == c.packet);
    }
  }
}

TEST_CASE("all packets in one buffer decode in order, however the buffer is split", "[mqtt][codec]") {
  for (auto version : {Version::v311, Version::v5}) {
    std::string wire;
    std::vector<Packet> expected;
    for (const auto& c : cases()) {
      if (c.version != version) continue;
      wire += c.wire;
      expected.push_back(c.packet);
    }
    for (std::size_t step : {0, 1, 5, 7, 64}) {
      auto result = decode_all(wire, version, step);
      CHECK_FALSE(result.error);
      CHECK(result.packets == expected);
    }
  }
}

TEST_CASE("encoding appends, so a burst becomes one buffer", "[mqtt][codec]") {
  std::string out = "x";
  encode(Pingreq{}, Version::v5, out);
  encode(PublishAck{PacketType::puback, 1, 0, {}}, Version::v5, out);
  CHECK(out == bytes({'x', 0xC0, 0x00, 0x40, 0x02, 0x00, 0x01}));
}

TEST_CASE("3.1.1 writes no properties and only the QoS of the subscription options", "[mqtt][codec]") {
  Publish p = publish_5();
  CHECK(encoded(p, Version::v311) == bytes({0x30, 0x04, 0x00, 0x01, 't', 'p'}));
  Subscribe s = subscribe_5();
  CHECK(encoded(s, Version::v311) == bytes({0x82, 0x06, 0x00, 0x02, 0x00, 0x01, 'a', 0x01}));
  CHECK(encoded(PublishAck{PacketType::puback, 7, 0x80, {}}, Version::v311) == bytes({0x40, 0x02, 0x00, 0x07}));
  CHECK(encoded(Disconnect{0x04, {}}, Version::v311) == bytes({0xE0, 0x00}));
  CHECK(encoded(Unsuback{3, {0x11}, {}}, Version::v311) == bytes({0xB0, 0x02, 0x00, 0x03}));
}

TEST_CASE("the encoder writes the connection's version into CONNECT", "[mqtt][codec]") {
  Connect c = connect_5();
  const auto wire = encoded(c, Version::v311);
  CHECK(wire[8] == 0x04);
  CHECK(wire.size() == encoded_size(c, Version::v311));
}

TEST_CASE("every property round-trips and user properties keep their order", "[mqtt][codec]") {
  Properties all;
  all.payload_format_indicator = 1;
  all.message_expiry_interval = 0xDEADBEEF;
  all.content_type = "text/plain";
  all.response_topic = "r/t";
  all.correlation_data = std::string("\0\x01\xFF", 3);
  all.subscription_identifiers = {268'435'455, 1, 128};
  all.topic_alias = 9;
  all.user_properties = {{"z", "1"}, {"a", "2"}, {"z", "3"}};
  Publish p{"t", std::string(300, 'q'), 1, false, false, 1, all};
  auto packet = decode_one(encoded(p, Version::v5), Version::v5, 1);
  REQUIRE(packet);
  CHECK(*packet == Packet{p});

  Connack c;
  c.properties.session_expiry_interval = 1;
  c.properties.assigned_client_identifier = "id";
  c.properties.server_keep_alive = 5;
  c.properties.authentication_method = "SCRAM";
  c.properties.authentication_data = std::string("\0", 1);
  c.properties.response_information = "ri";
  c.properties.server_reference = "other";
  c.properties.reason_string = "why";
  c.properties.receive_maximum = 65535;
  c.properties.topic_alias_maximum = 10;
  c.properties.maximum_qos = 1;
  c.properties.retain_available = 0;
  c.properties.user_properties = {{"k", "v"}};
  c.properties.maximum_packet_size = 1 << 20;
  c.properties.wildcard_subscription_available = 1;
  c.properties.subscription_identifiers_available = 0;
  c.properties.shared_subscription_available = 1;
  auto connack = decode_one(encoded(c, Version::v5), Version::v5, 1);
  REQUIRE(connack);
  CHECK(*connack == Packet{c});

  Connect connect = connect_5_with_will();
  connect.username = "user";
  connect.properties.request_problem_information = 0;
  connect.properties.request_response_information = 1;
  connect.properties.maximum_packet_size = 1000;
  connect.properties.topic_alias_maximum = 3;
  connect.properties.user_properties = {{"a", "b"}};
  connect.will->properties.payload_format_indicator = 0;
  connect.will->properties.message_expiry_interval = 10;
  connect.will->properties.content_type = "c";
  connect.will->properties.response_topic = "r";
  connect.will->properties.correlation_data = "d";
  connect.will->properties.user_properties = {{"w", "1"}};
  auto decoded_connect = decode_one(encoded(connect, Version::v5), Version::v5, 1);
  REQUIRE(decoded_connect);
  CHECK(*decoded_connect == Packet{connect});
}

TEST_CASE("the encoder refuses what cannot be a packet", "[mqtt][codec]") {
  std::string out;
  CHECK_THROWS_AS(encode(OversizedPublish{"t", 1, 1, 10}, Version::v5, out), std::logic_error);
  CHECK_THROWS_AS(encoded_size(OversizedPublish{}, Version::v5), std::logic_error);
  CHECK_THROWS_AS(encode(Auth{}, Version::v311, out), std::logic_error);
  CHECK_THROWS_AS(encode(Publish{"t", "", 3, false, false, 1, {}}, Version::v5, out), std::logic_error);
  CHECK_THROWS_AS(encode(PublishAck{PacketType::suback, 1, 0, {}}, Version::v5, out), std::logic_error);
  CHECK_THROWS_AS(encode(Publish{std::string(70'000, 'a'), "", 0, false, false, 0, {}}, Version::v5, out),
                  std::length_error);
  CHECK(out.empty());
}

TEST_CASE("variable byte integers take 1 to 4 bytes, up to 268,435,455", "[mqtt][codec]") {
  auto vbi = [](std::uint32_t value) {
    std::string out;
    append_variable_byte_integer(value, out);
    return out;
  };
  CHECK(vbi(0) == bytes({0x00}));
  CHECK(vbi(127) == bytes({0x7F}));
  CHECK(vbi(128) == bytes({0x80, 0x01}));
  CHECK(vbi(16'383) == bytes({0xFF, 0x7F}));
  CHECK(vbi(16'384) == bytes({0x80, 0x80, 0x01}));
  CHECK(vbi(2'097'151) == bytes({0xFF, 0xFF, 0x7F}));
  CHECK(vbi(2'097'152) == bytes({0x80, 0x80, 0x80, 0x01}));
  CHECK(vbi(268'435'455) == bytes({0xFF, 0xFF, 0xFF, 0x7F}));
  CHECK(max_variable_byte_integer == 268'435'455);
  std::string out;
  CHECK_THROWS_AS(append_variable_byte_integer(268'435'456, out), std::length_error);
}

TEST_CASE("encoded_size agrees with encode at the remaining length's byte boundaries", "[mqtt][codec]") {
  for (std::size_t payload : {0, 120, 121, 122, 123, 16'370, 16'380, 16'381, 16'382, 20'000, 2'097'140, 2'097'150}) {
    Publish p{"t", std::string(payload, 'x'), 0, false, false, 0, {}};
    for (auto version : {Version::v311, Version::v5}) {
      INFO(payload);
      const auto wire = encoded(p, version);
      CHECK(encoded_size(p, version) == wire.size());
      auto back = decode_one(wire, version, 0, 1 << 24);
      REQUIRE(back);
      CHECK(std::get<Publish>(*back) == p);
    }
  }
}

TEST_CASE("reason codes and 3.1.1 return codes have names", "[mqtt][codec]") {
  CHECK(std::string(reason_name(reason::malformed_packet)) == "malformed packet (0x81)");
  CHECK(std::string(reason_name(reason::packet_too_large)) == "packet too large (0x95)");
  CHECK(std::string(reason_name(0x00)) == "success (0x00)");
  CHECK(std::string(reason_name(0x7F)) == "reason code 0x7F");
  CHECK(std::string(reason_name(0xFF)) == "reason code 0xFF");
  CHECK(std::string(connack_return_name_311(1)) == "unacceptable protocol version");
  CHECK(std::string(connack_return_name_311(5)) == "not authorized");
  CHECK(std::string(connack_return_name_311(0)) == "connection accepted");
  CHECK(std::string(connack_return_name_311(9)) == "reserved return code");
  CHECK(std::string(to_string(PacketType::unsuback)) == "UNSUBACK");
}
