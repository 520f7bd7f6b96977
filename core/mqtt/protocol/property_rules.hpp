#pragma once
// Which MQTT 5 property may appear where, in what form, and how often (OASIS MQTT 5.0, 2.2.2.2,
// Table 2-4). The reader checks every property it reads against this table; the encoder writes
// the identifiers named here.
#include <cstdint>

#include "core/mqtt/protocol/packet.hpp"

namespace routemq::mqtt {

namespace property_id {
inline constexpr std::uint8_t payload_format_indicator = 0x01;
inline constexpr std::uint8_t message_expiry_interval = 0x02;
inline constexpr std::uint8_t content_type = 0x03;
inline constexpr std::uint8_t response_topic = 0x08;
inline constexpr std::uint8_t correlation_data = 0x09;
inline constexpr std::uint8_t subscription_identifier = 0x0B;
inline constexpr std::uint8_t session_expiry_interval = 0x11;
inline constexpr std::uint8_t assigned_client_identifier = 0x12;
inline constexpr std::uint8_t server_keep_alive = 0x13;
inline constexpr std::uint8_t authentication_method = 0x15;
inline constexpr std::uint8_t authentication_data = 0x16;
inline constexpr std::uint8_t request_problem_information = 0x17;
inline constexpr std::uint8_t will_delay_interval = 0x18;
inline constexpr std::uint8_t request_response_information = 0x19;
inline constexpr std::uint8_t response_information = 0x1A;
inline constexpr std::uint8_t server_reference = 0x1C;
inline constexpr std::uint8_t reason_string = 0x1F;
inline constexpr std::uint8_t receive_maximum = 0x21;
inline constexpr std::uint8_t topic_alias_maximum = 0x22;
inline constexpr std::uint8_t topic_alias = 0x23;
inline constexpr std::uint8_t maximum_qos = 0x24;
inline constexpr std::uint8_t retain_available = 0x25;
inline constexpr std::uint8_t user_property = 0x26;
inline constexpr std::uint8_t maximum_packet_size = 0x27;
inline constexpr std::uint8_t wildcard_subscription_available = 0x28;
inline constexpr std::uint8_t subscription_identifiers_available = 0x29;
inline constexpr std::uint8_t shared_subscription_available = 0x2A;
}  // namespace property_id

// The property's data type (2.2.2.2, Table 2-4).
enum class PropertyForm : std::uint8_t { byte, two_byte, four_byte, variable_byte, utf8, binary, utf8_pair };

// Where a property sits: one bit per packet type (the PacketType's value), plus the will properties
// of CONNECT, which allow other properties than CONNECT's own (3.1.3.2).
using PropertyPlaces = std::uint32_t;
inline constexpr PropertyPlaces place_of(PacketType type) { return PropertyPlaces{1} << static_cast<unsigned>(type); }
inline constexpr PropertyPlaces will_place = PropertyPlaces{1} << 16;

struct PropertyRule {
  std::uint8_t id = 0;
  const char* name = "";
  PropertyForm form = PropertyForm::byte;
  PropertyPlaces places = 0;
  bool repeatable = false;  // user property anywhere, subscription identifier in PUBLISH
  bool boolean = false;     // a byte whose only values are 0 and 1
};

// nullptr for an identifier MQTT 5 does not define.
const PropertyRule* find_property_rule(std::uint8_t id);

}  // namespace routemq::mqtt
