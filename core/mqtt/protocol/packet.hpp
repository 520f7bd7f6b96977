#pragma once
// Every MQTT control packet a client sends or receives, as values (OASIS MQTT 3.1.1 and 5.0,
// chapter 3). The same structs serve both versions: what 3.1.1 lacks (properties, most reason codes)
// is simply left empty, and the codec (encoder.hpp, packet_reader.hpp) writes and reads each packet
// the way the connection's version says.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/mqtt/protocol/properties.hpp"

namespace routemq::mqtt {

enum class Version : std::uint8_t { v311 = 4, v5 = 5 };  // the protocol level byte of CONNECT

// The control packet type, the high nibble of the fixed header's first byte (2.1.2).
enum class PacketType : std::uint8_t {
  connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp,
  subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect, auth
};
const char* to_string(PacketType type);

struct Will {
  std::string topic;
  std::string payload;  // binary
  std::uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // v5: the will properties (3.1.3.2)
  bool operator==(const Will&) const = default;
};

struct Connect {
  Version version = Version::v5;
  std::string client_id;
  bool clean_start = true;  // 3.1.1: clean session
  std::uint16_t keep_alive_s = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary
  std::optional<Will> will;
  Properties properties;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  std::uint8_t reason_code = 0;  // v5 reason code; 3.1.1 return code (0 accepted, 1-5 refused)
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::string topic;    // empty with a v5 topic alias that names a topic already set
  std::string payload;  // binary
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // QoS 1 and 2 only
  Properties properties;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP: one shape (3.4-3.7), told apart by `type`.
struct PublishAck {
  PacketType type = PacketType::puback;
  std::uint16_t packet_id = 0;
  std::uint8_t reason_code = 0;  // v5; 0 success
  Properties properties;
  bool operator==(const PublishAck&) const = default;
};

struct SubscribeTopic {
  std::string filter;
  std::uint8_t qos = 0;
  bool no_local = false;             // v5 subscription options (3.8.3.1)
  bool retain_as_published = false;
  std::uint8_t retain_handling = 0;  // 0 send retained, 1 only on a new subscription, 2 never
  bool operator==(const SubscribeTopic&) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<SubscribeTopic> topics;
  Properties properties;  // v5: at most one subscription identifier
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> reason_codes;  // one per topic; >= 0x80 refused (3.1.1: 0x80 failure)
  Properties properties;
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
  Properties properties;
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> reason_codes;  // v5 only; empty with 3.1.1
  Properties properties;
  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  std::uint8_t reason_code = 0;  // v5; 3.1.1 has none
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

struct Auth {
  std::uint8_t reason_code = 0;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

// Not a packet on the wire: a PUBLISH larger than our maximum packet size that the reader read past
// without keeping it (packet_reader.hpp), so the session can refuse it, count it and still
// acknowledge it (an unacknowledged QoS 1 message would hold a slot of the broker's for ever).
struct OversizedPublish {
  std::string topic;  // as far as it could be read
  std::uint8_t qos = 0;
  std::uint16_t packet_id = 0;
  std::size_t size = 0;  // the whole packet's length in bytes
  bool operator==(const OversizedPublish&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, PublishAck, Subscribe, Suback, Unsubscribe, Unsuback, Pingreq,
                            Pingresp, Disconnect, Auth, OversizedPublish>;

}  // namespace routemq::mqtt
