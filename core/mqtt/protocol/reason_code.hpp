#pragma once
// MQTT 5 reason codes (OASIS MQTT 5.0, 2.4), the ones a client sends or must understand, with their
// names for logs. Values below 0x80 are success; 0x80 and above are failures.
#include <cstdint>

namespace routemq::mqtt {

namespace reason {
inline constexpr std::uint8_t success = 0x00;  // also: normal disconnection, granted QoS 0
inline constexpr std::uint8_t granted_qos_1 = 0x01;
inline constexpr std::uint8_t granted_qos_2 = 0x02;
inline constexpr std::uint8_t disconnect_with_will = 0x04;
inline constexpr std::uint8_t no_matching_subscribers = 0x10;
inline constexpr std::uint8_t unspecified_error = 0x80;
inline constexpr std::uint8_t malformed_packet = 0x81;
inline constexpr std::uint8_t protocol_error = 0x82;
inline constexpr std::uint8_t implementation_specific_error = 0x83;
inline constexpr std::uint8_t not_authorized = 0x87;
inline constexpr std::uint8_t server_busy = 0x89;
inline constexpr std::uint8_t keep_alive_timeout = 0x8D;
inline constexpr std::uint8_t session_taken_over = 0x8E;
inline constexpr std::uint8_t topic_name_invalid = 0x90;
inline constexpr std::uint8_t packet_identifier_in_use = 0x91;
inline constexpr std::uint8_t packet_identifier_not_found = 0x92;
inline constexpr std::uint8_t receive_maximum_exceeded = 0x93;
inline constexpr std::uint8_t topic_alias_invalid = 0x94;
inline constexpr std::uint8_t packet_too_large = 0x95;
inline constexpr std::uint8_t quota_exceeded = 0x97;
inline constexpr std::uint8_t payload_format_invalid = 0x99;
inline constexpr std::uint8_t qos_not_supported = 0x9B;
}  // namespace reason

// "malformed packet (0x81)"; an unknown code reads "reason code 0xNN".
const char* reason_name(std::uint8_t code);
// The words of a 3.1.1 CONNACK return code (3.2.2.3): "unacceptable protocol version" ...
const char* connack_return_name_311(std::uint8_t code);

}  // namespace routemq::mqtt
