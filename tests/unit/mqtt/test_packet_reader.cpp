// The packet reader against what a broken or hostile peer sends: each check of packet_reader.hpp with
// the reason code it must name, oversized packets, and buffers of many packets.
#include <catch2/catch.hpp>

#include "core/mqtt/protocol/reason_code.hpp"
#include "tests/unit/mqtt/codec_test_support.hpp"

using namespace routemq::mqtt;
using routemq::mqtt::test::bytes;
using routemq::mqtt::test::decode_all;
using routemq::mqtt::test::decode_one;
using routemq::mqtt::test::encoded;
using routemq::mqtt::test::error_code;

namespace {

constexpr auto v3 = Version::v311;
constexpr auto v5 = Version::v5;
constexpr int malformed = reason::malformed_packet;
constexpr int protocol_error = reason::protocol_error;

// A v5 QoS 0 PUBLISH to "t" with the given property bytes.
std::string publish_with_properties(std::initializer_list<int> properties) {
  std::string body = bytes({0x00, 0x01, 't'});
  body.push_back(static_cast<char>(properties.size()));
  body += bytes(properties);
  std::string wire = bytes({0x30, static_cast<int>(body.size())});
  return wire + body;
}

// A QoS 0 PUBLISH with the given topic bytes, in either version (v5 with an empty property length).
std::string publish_with_topic(const std::string& topic, Version version) {
  std::string body = bytes({0x00, static_cast<int>(topic.size())}) + topic;
  if (version == Version::v5) body.push_back('\0');
  return bytes({0x30, static_cast<int>(body.size())}) + body;
}

std::string error_text(std::string_view data, Version version) {
  auto result = decode_all(data, version);
  return result.error ? result.error->what : "";
}

}  // namespace

TEST_CASE("the fixed header: reserved type 0, wrong flags, QoS 3", "[mqtt][reader]") {
  for (auto version : {v3, v5}) {
    CHECK(error_code(bytes({0x00, 0x00}), version) == malformed);
    CHECK(error_code(bytes({0x41, 0x02, 0x00, 0x01}), version) == malformed);        // PUBACK flags 1
    CHECK(error_code(bytes({0x60, 0x02, 0x00, 0x01}), version) == malformed);        // PUBREL without 0b0010
    CHECK(error_code(bytes({0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}), version) == malformed);  // SUBSCRIBE
    CHECK(error_code(bytes({0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}), version) == malformed);  // UNSUBSCRIBE
    CHECK(error_code(bytes({0xC1, 0x00}), version) == malformed);                    // PINGREQ flags 1
    CHECK(error_code(bytes({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}), version) == malformed);  // QoS 3
  }
  CHECK(error_code(bytes({0xF0, 0x00}), v3) == malformed);  // AUTH does not exist in 3.1.1
  CHECK(error_text(bytes({0x36, 0x00}), v5) == "PUBLISH: QoS 3 (first byte 0x36)");
  // Decided on the first byte alone: the rest need not have arrived.
  CHECK(error_code(bytes({0x00}), v5) == malformed);
}

TEST_CASE("the remaining length: at most 4 bytes, up to 268,435,455", "[mqtt][reader]") {
  CHECK(error_code(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), v5) == malformed);
  CHECK(error_code(bytes({0x30, 0x80, 0x80, 0x80, 0x80}), v3) == malformed);
  CHECK(error_text(bytes({0xD0, 0x80, 0x80, 0x80, 0x80}), v5) == "PINGRESP: remaining length is longer than 4 bytes");

  // The largest remaining length is a packet waiting for its bytes, not an error.
  PacketReader reader(v5, std::size_t{1} << 30);
  reader.feed(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 't'}));
  CHECK_FALSE(reader.next());
  CHECK_FALSE(reader.failed());

  // And with a smaller limit it is an oversized PUBLISH of 1 + 4 + 268,435,455 bytes.
  auto result = decode_all(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 't'}), v3, 1, 1000);
  REQUIRE(result.packets.size() == 1);
  CHECK(result.packets[0] == Packet{OversizedPublish{"t", 0, 0, 268'435'460}});
}

TEST_CASE("a remaining length that disagrees with the content is malformed", "[mqtt][reader]") {
  for (auto version : {v3, v5}) {
    CHECK(error_code(bytes({0x30, 0x02, 0x00, 0x05}), version) == malformed);  // topic runs past the end
    CHECK(error_code(bytes({0x32, 0x04, 0x00, 0x01, 't', 0x00}), version) == malformed);  // packet id cut
    CHECK(error_code(bytes({0xD0, 0x01, 0x00}), version) == malformed);              // PINGRESP with a body
    CHECK(error_code(bytes({0xC0, 0x01, 0x00}), version) == malformed);              // PINGREQ with a body
    CHECK(error_code(bytes({0x40, 0x01, 0x00}), version) == malformed);              // PUBACK, 1 byte
    CHECK(error_code(bytes({0x20, 0x01, 0x00}), version) == malformed);              // CONNACK, 1 byte
    CHECK(error_code(bytes({0x90, 0x02, 0x00, 0x01}), version) == malformed);        // SUBACK without codes
  }
  CHECK(error_code(bytes({0x40, 0x03, 0x00, 0x01, 0x00}), v3) == malformed);         // 3.1.1 PUBACK is 2 bytes
  CHECK(error_code(bytes({0x20, 0x03, 0x00, 0x00, 0x00}), v3) == malformed);         // 3.1.1 CONNACK is 2
  CHECK(error_code(bytes({0xB0, 0x03, 0x00, 0x01, 0x00}), v3) == malformed);         // 3.1.1 UNSUBACK is 2
  CHECK(error_code(bytes({0xE0, 0x01, 0x00}), v3) == malformed);                     // 3.1.1 DISCONNECT is 0
  CHECK(error_code(bytes({0x20, 0x02, 0x00, 0x00}), v5) == malformed);               // v5 CONNACK needs properties
  CHECK(error_code(bytes({0x20, 0x04, 0x00, 0x00, 0x00, 0x00}), v5) == malformed);   // ... and nothing after
  CHECK(error_code(bytes({0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00}), v5) == malformed);  // after properties
  CHECK(error_code(bytes({0xB0, 0x03, 0x00, 0x01, 0x00}), v5) == malformed);         // v5 UNSUBACK without codes
  CHECK(error_code(bytes({0x82, 0x03, 0x00, 0x01, 0x00}), v5) == malformed);         // SUBSCRIBE without topics
  CHECK(error_code(bytes({0xA2, 0x02, 0x00, 0x01}), v3) == malformed);               // UNSUBSCRIBE without topics
  CHECK(error_code(bytes({0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}), v3) == malformed);  // options byte missing
  CHECK(error_text(bytes({0xD0, 0x01, 0x00}), v5) == "PINGRESP: 1 unexpected byte(s) after the fixed header");
}

TEST_CASE("v5 acks, DISCONNECT and AUTH in their short forms", "[mqtt][reader]") {
  CHECK(decode_one(bytes({0xE0, 0x00}), v5) == Packet{Disconnect{}});
  CHECK(decode_one(bytes({0xE0, 0x01, 0x8E}), v5) == Packet{Disconnect{0x8E, {}}});
  CHECK(decode_one(bytes({0xF0, 0x00}), v5) == Packet{Auth{}});
  CHECK(decode_one(bytes({0x50, 0x04, 0x00, 0x01, 0x10, 0x00}), v5) ==
        Packet{PublishAck{PacketType::pubrec, 1, 0x10, {}}});
}

TEST_CASE("strings must be MQTT UTF-8", "[mqtt][reader]") {
  for (auto version : {v3, v5}) {
    INFO(static_cast<int>(version));
    CHECK(error_code(publish_with_topic("a\xC0\x80", version), version) == malformed);      // overlong U+0000
    CHECK(error_code(publish_with_topic("\xE0\x80\xAF", version), version) == malformed);   // overlong '/'
    CHECK(error_code(publish_with_topic("\xED\xA0\x80", version), version) == malformed);   // U+D800
    CHECK(error_code(publish_with_topic("\xED\xBF\xBF", version), version) == malformed);   // U+DFFF
    CHECK(error_code(publish_with_topic(std::string("a\0b", 3), version), version) == malformed);  // U+0000
    CHECK(error_code(publish_with_topic("\xFF", version), version) == malformed);
    CHECK(error_code(publish_with_topic("\x80", version), version) == malformed);           // lone continuation
    CHECK(error_code(publish_with_topic("\xE2\x82", version), version) == malformed);       // truncated
    CHECK(error_code(publish_with_topic("\xF4\x90\x80\x80", version), version) == malformed);  // > U+10FFFF
    CHECK(error_code(publish_with_topic("\xC3\x28", version), version) == malformed);       // bad continuation
    // Well formed: 2, 3 and 4 byte sequences, U+FFFF, U+10FFFF, U+E000 after the surrogates.
    auto ok = decode_one(publish_with_topic("\xC3\xA9/\xE2\x82\xAC/\xF0\x9F\x98\x80/\xEF\xBF\xBF/\xF4\x8F\xBF\xBF/"
                                            "\xEE\x80\x80",
                                            version),
                         version);
    CHECK(ok);
  }
  CHECK(error_text(publish_with_topic("ab\xED\xA0\x80", v5), v5) ==
        "PUBLISH: topic name is not valid UTF-8: a surrogate (U+D800..U+DFFF) (byte 0xED at offset 4)");
  // User properties, filters and client identifiers too.
  CHECK(error_code(publish_with_properties({0x26, 0x00, 0x01, 0xC0, 0x00, 0x00}), v5) == malformed);
  CHECK(error_code(bytes({0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, 0xFE}), v3) == malformed);
  CHECK(error_code(bytes({0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00, 0x00, 0x03, 'a',
                          0x00, 'b'}),
                   v3) == malformed);
}

TEST_CASE("topic names: no wildcards, not empty in 3.1.1, empty allowed in v5", "[mqtt][reader]") {
  CHECK(error_code(publish_with_topic("a/+/b", v5), v5) == reason::topic_name_invalid);
  CHECK(error_code(publish_with_topic("a/#", v5), v5) == reason::topic_name_invalid);
  CHECK(error_code(publish_with_topic("a/+", v3), v3) == malformed);
  CHECK(error_code(publish_with_topic("#", v3), v3) == malformed);
  CHECK(error_code(publish_with_topic("", v3), v3) == malformed);
  // v5: an empty topic is the session's to resolve with its topic alias (or refuse without one).
  auto empty = decode_one(publish_with_topic("", v5), v5);
  REQUIRE(empty);
  CHECK(std::get<Publish>(*empty).topic.empty());
}

TEST_CASE("properties: unknown, misplaced, repeated, running past, invalid values", "[mqtt][reader]") {
  CHECK(error_code(publish_with_properties({0x05, 0x00}), v5) == malformed);                  // unknown 0x05
  CHECK(error_code(publish_with_properties({0x11, 0x00, 0x00, 0x00, 0x01}), v5) == malformed);  // not in PUBLISH
  CHECK(error_code(publish_with_properties({0x18, 0x00, 0x00, 0x00, 0x01}), v5) == malformed);  // will only
  CHECK(error_code(publish_with_properties({0x23, 0x00, 0x01, 0x23, 0x00, 0x02}), v5) == protocol_error);
  CHECK(error_code(publish_with_properties({0x01, 0x01, 0x01, 0x00}), v5) == protocol_error);  // twice
  CHECK(error_code(publish_with_properties({0x0B, 0x00}), v5) == protocol_error);               // identifier 0
  CHECK(error_code(publish_with_properties({0x01, 0x02}), v5) == protocol_error);               // format 2
  CHECK(error_code(publish_with_properties({0x23, 0x00}), v5) == malformed);  // value runs past the length
  CHECK(error_code(publish_with_properties({0x03, 0x00, 0x05, 'a'}), v5) == malformed);  // string runs past
  CHECK(error_code(bytes({0x30, 0x05, 0x00, 0x01, 't', 0x09, 0x01}), v5) == malformed);  // length runs past
  CHECK(error_code(bytes({0x30, 0x04, 0x00, 0x01, 't', 0x80}), v5) == malformed);        // length cut
  CHECK(error_code(publish_with_properties({0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), v5) == malformed);  // 5-byte VBI
  CHECK(error_text(publish_with_properties({0x11, 0x00, 0x00, 0x00, 0x01}), v5) ==
        "PUBLISH: session expiry interval (0x11) is not allowed in the properties");
  CHECK(error_text(publish_with_properties({0x23, 0x00, 0x01, 0x23, 0x00, 0x02}), v5) ==
        "PUBLISH: topic alias (0x23) appears twice");
  // Repeatable: user properties anywhere, subscription identifiers in PUBLISH; not in SUBSCRIBE.
  auto many = decode_one(publish_with_properties({0x0B, 0x01, 0x0B, 0x02, 0x26, 0x00, 0x00, 0x00, 0x00, 0x26, 0x00,
                                                  0x00, 0x00, 0x00}),
                         v5);
  REQUIRE(many);
  CHECK(std::get<Publish>(*many).properties.subscription_identifiers == std::vector<std::uint32_t>{1, 2});
  CHECK(std::get<Publish>(*many).properties.user_properties.size() == 2);
  CHECK(error_code(bytes({0x82, 0x0A, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00}), v5) ==
        protocol_error);
  // CONNACK and CONNECT: value checks.
  CHECK(error_code(bytes({0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00}), v5) == protocol_error);  // receive max 0
  CHECK(error_code(bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}), v5) == protocol_error);   // maximum QoS 2
  CHECK(error_code(bytes({0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x00}), v5) == protocol_error);
  CHECK(error_code(bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x23, 0x00, 0x01}), v5) == malformed);  // alias in CONNACK
  // A reason string in an ack, not in SUBSCRIBE.
  CHECK(decode_one(bytes({0x40, 0x08, 0x00, 0x01, 0x00, 0x04, 0x1F, 0x00, 0x01, 'r'}), v5));
  CHECK(error_code(bytes({0x82, 0x0A, 0x00, 0x01, 0x04, 0x1F, 0x00, 0x01, 'r', 0x00, 0x01, 'a', 0x00}), v5) ==
        malformed);
}

TEST_CASE("packet identifiers are never 0 where one is required", "[mqtt][reader]") {
  for (auto version : {v3, v5}) {
    CHECK(error_code(bytes({0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}), version) == malformed);  // PUBLISH QoS 1
    CHECK(error_code(bytes({0x34, 0x05, 0x00, 0x01, 't', 0x00, 0x00}), version) == malformed);  // PUBLISH QoS 2
    CHECK(error_code(bytes({0x40, 0x02, 0x00, 0x00}), version) == malformed);
    CHECK(error_code(bytes({0x50, 0x02, 0x00, 0x00}), version) == malformed);
    CHECK(error_code(bytes({0x62, 0x02, 0x00, 0x00}), version) == malformed);
    CHECK(error_code(bytes({0x70, 0x02, 0x00, 0x00}), version) == malformed);
    CHECK(error_code(bytes({0xB0, 0x02, 0x00, 0x00}), v3) == malformed);
  }
  CHECK(error_code(bytes({0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00}), v3) == malformed);
  CHECK(error_code(bytes({0xA2, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 'a'}), v5) == malformed);
  CHECK(error_code(bytes({0x90, 0x03, 0x00, 0x00, 0x00}), v3) == malformed);
  CHECK(error_text(bytes({0x40, 0x02, 0x00, 0x00}), v5) == "PUBACK: packet identifier is 0 [MQTT-2.2.1-3]");
  // QoS 0 has none: its bytes are payload.
  auto qos0 = decode_one(bytes({0x30, 0x05, 0x00, 0x01, 't', 0x00, 0x00}), v3);
  REQUIRE(qos0);
  CHECK(std::get<Publish>(*qos0).payload == std::string(2, '\0'));
}

TEST_CASE("SUBSCRIBE options, SUBACK and UNSUBACK codes", "[mqtt][reader]") {
  CHECK(error_code(bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03}), v3) == malformed);  // QoS 3
  CHECK(error_code(bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04}), v3) == malformed);  // v5 bit in 3.1.1
  CHECK(error_code(bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40}), v5) == malformed);  // reserved
  CHECK(error_code(bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30}), v5) == protocol_error);  // RH 3
  CHECK(error_code(bytes({0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00}), v3) == malformed);  // empty filter
  CHECK(error_code(bytes({0x90, 0x03, 0x00, 0x01, 0x03}), v3) == malformed);
  CHECK(error_code(bytes({0x90, 0x03, 0x00, 0x01, 0x87}), v3) == malformed);  // a v5 code in 3.1.1
  CHECK(decode_one(bytes({0x90, 0x04, 0x00, 0x01, 0x00, 0x87}), v5) == Packet{Suback{1, {0x87}, {}}});
  CHECK(error_code(bytes({0x90, 0x04, 0x00, 0x01, 0x00, 0x03}), v5) == malformed);
  CHECK(error_code(bytes({0xB0, 0x04, 0x00, 0x01, 0x00, 0x01}), v5) == malformed);
}

TEST_CASE("CONNECT: protocol, flags, will, user name and password", "[mqtt][reader]") {
  const auto connect = [](int level, int flags, std::string tail) {
    std::string body = bytes({0x00, 0x04, 'M', 'Q', 'T', 'T', level, flags, 0x00, 0x0A});
    if (level == 5) body.push_back('\0');
    body += tail;
    return bytes({0x10, static_cast<int>(body.size())}) + body;
  };
  const std::string id = bytes({0x00, 0x01, 'c'});
  CHECK(decode_one(connect(4, 0x02, id), v3));
  CHECK(error_code(connect(4, 0x02, id), v5) == 0x84);   // a 3.1.1 CONNECT to a v5 reader
  CHECK(error_code(connect(5, 0x02, id), v3) == 0x84);
  CHECK(error_code(connect(4, 0x03, id), v3) == malformed);  // reserved flag
  CHECK(error_code(connect(4, 0x08, id), v3) == malformed);  // will QoS without will
  CHECK(error_code(connect(4, 0x20, id), v3) == malformed);  // will retain without will
  CHECK(error_code(connect(4, 0x1C, id + bytes({0x00, 0x01, 'w', 0x00, 0x00})), v3) == malformed);  // will QoS 3
  CHECK(error_code(connect(4, 0x40, id + bytes({0x00, 0x01, 'p'})), v3) == malformed);  // password alone
  CHECK(decode_one(connect(5, 0x40, id + bytes({0x00, 0x01, 'p'})), v5));               // allowed in v5
  CHECK(error_code(connect(4, 0x80, id), v3) == malformed);                             // user name missing
  CHECK(error_code(connect(4, 0x00, id + "x"), v3) == malformed);                       // trailing byte
  CHECK(error_code(connect(5, 0x00, bytes({0x00, 0x01, 'c'}) + ""), v5) == -1);
  // Will properties are their own place: will delay interval there, not in CONNECT's properties.
  std::string v5_will = bytes({0x10, 0x16, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x04, 0x00, 0x00, 0x05, 0x18,
                               0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'w', 0x00, 0x00});
  CHECK(error_code(v5_will, v5) == malformed);
  auto protocol_name = bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 'c'});
  CHECK(error_code(protocol_name, v3) == 0x84);
}

TEST_CASE("CONNACK: reserved flags and session present with a refusal", "[mqtt][reader]") {
  CHECK(error_code(bytes({0x20, 0x02, 0x02, 0x00}), v3) == malformed);
  CHECK(error_code(bytes({0x20, 0x02, 0x01, 0x05}), v3) == malformed);
  CHECK(error_code(bytes({0x20, 0x03, 0x01, 0x87, 0x00}), v5) == malformed);
  CHECK(decode_one(bytes({0x20, 0x03, 0x00, 0x87, 0x00}), v5) == Packet{Connack{false, 0x87, {}}});
}

TEST_CASE("an error is sticky", "[mqtt][reader]") {
  PacketReader reader(v5, 1 << 20);
  reader.feed(bytes({0xC0, 0x00, 0x00, 0x00, 0xC0, 0x00}));
  CHECK(reader.next() == Packet{Pingreq{}});
  CHECK_FALSE(reader.next());
  REQUIRE(reader.failed());
  CHECK(reader.error().reason_code == malformed);
  CHECK(reader.error().what == "reserved packet type 0 (first byte 0x00)");
  reader.feed(bytes({0xD0, 0x00}));
  CHECK_FALSE(reader.next());
  CHECK_FALSE(reader.next());
  CHECK(reader.failed());
  CHECK(reader.buffered() == 0);
}

TEST_CASE("an oversized PUBLISH is read past across many feeds, the next packet still decoded", "[mqtt][reader]") {
  for (auto version : {v3, v5}) {
    Publish big{"big/topic", std::string(10'000, 'x'), 1, false, false, 9, {}};
    const std::string wire = encoded(big, version) + encoded(PublishAck{PacketType::puback, 4, 0, {}}, version);
    const std::size_t big_size = encoded_size(big, version);
    for (std::size_t step : {1, 3, 7, 100, 4096, 20'000}) {
      INFO("step " << step);
      PacketReader reader(version, 1000);
      std::vector<Packet> packets;
      std::size_t most_buffered = 0;
      for (std::size_t at = 0; at < wire.size(); at += step) {
        reader.feed(std::string_view(wire).substr(at, step));
        while (auto packet = reader.next()) packets.push_back(std::move(*packet));
        most_buffered = std::max(most_buffered, reader.buffered());
      }
      CHECK_FALSE(reader.failed());
      REQUIRE(packets.size() == 2);
      CHECK(packets[0] == Packet{OversizedPublish{"big/topic", 1, 9, big_size}});
      CHECK(packets[1] == Packet{PublishAck{PacketType::puback, 4, 0, {}}});
      if (step < 1000) CHECK(most_buffered < 1000);  // never the whole packet
      CHECK(reader.buffered() == 0);
    }
  }
}

TEST_CASE("an oversized PUBLISH with QoS 0 and a limit of exactly its size", "[mqtt][reader]") {
  Publish p{"t", std::string(100, 'x'), 0, false, false, 0, {}};
  const std::string wire = encoded(p, v3);
  CHECK(decode_all(wire, v3, 1, wire.size()).packets == std::vector<Packet>{p});
  CHECK(decode_all(wire, v3, 1, wire.size() - 1).packets ==
        std::vector<Packet>{OversizedPublish{"t", 0, 0, wire.size()}});
}

TEST_CASE("a packet too large is an error when it is not a PUBLISH or when told so", "[mqtt][reader]") {
  Publish p{"t", std::string(2000, 'x'), 1, false, false, 1, {}};
  CHECK(error_code(encoded(p, v5), v5, 1000, true) == reason::packet_too_large);
  CHECK(error_text(encoded(p, v5).substr(0, 3), v5) == "");  // still waiting with a large limit
  Suback s{1, std::vector<std::uint8_t>(2000, 0x00), {}};
  CHECK(error_code(encoded(s, v3), v3, 1000) == reason::packet_too_large);
  // Decided on the fixed header: the body need not arrive.
  CHECK(error_code(encoded(s, v3).substr(0, 3), v3, 1000) == reason::packet_too_large);
  // And an oversized PUBLISH is still checked as far as it is read.
  CHECK(error_code(publish_with_topic(std::string(20, '+'), v3), v3, 10) == malformed);
}

TEST_CASE("a 64 KiB read of hundreds of small PUBLISHes decodes in one pass", "[mqtt][reader]") {
  std::string chunk;
  std::vector<Packet> expected;
  for (int i = 0; chunk.size() < 64 * 1024; ++i) {
    Publish p{"sensors/" + std::to_string(i), std::string(static_cast<std::size_t>(40 + i % 50), 'p'), 1,
              false, false, static_cast<std::uint16_t>(i % 65535 + 1), {}};
    chunk += encoded(p, v5);
    expected.push_back(std::move(p));
  }
  // Three reads of 64 KiB, each ending mid-packet, as a socket would hand them over.
  const std::string stream = chunk + chunk + chunk;
  PacketReader reader(v5, 1 << 20);
  std::size_t decoded = 0;
  for (std::size_t at = 0; at < stream.size(); at += 65'536) {
    reader.feed(std::string_view(stream).substr(at, 65'536));
    while (auto packet = reader.next()) {
      CHECK(*packet == expected[decoded % expected.size()]);
      ++decoded;
    }
    CHECK(reader.buffered() < 200);  // what is left is one partial packet
  }
  CHECK(decoded == expected.size() * 3);
  CHECK_FALSE(reader.failed());
}
