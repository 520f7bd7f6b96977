#pragma once
// MQTT 5 properties (OASIS MQTT 5.0, 2.2.2.2) as plain typed fields: absent means "not sent". Which
// packet may carry which property, and which may appear more than once, is the codec's to check
// (packet_reader.hpp); this is only the value.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace routemq::mqtt {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct Properties {
  std::optional<std::uint8_t> payload_format_indicator;       // 0x01 PUBLISH, will
  std::optional<std::uint32_t> message_expiry_interval;       // 0x02 PUBLISH, will
  std::optional<std::string> content_type;                    // 0x03 PUBLISH, will
  std::optional<std::string> response_topic;                  // 0x08 PUBLISH, will
  std::optional<std::string> correlation_data;                // 0x09 PUBLISH, will (binary)
  std::vector<std::uint32_t> subscription_identifiers;        // 0x0B PUBLISH (many), SUBSCRIBE (one)
  std::optional<std::uint32_t> session_expiry_interval;       // 0x11 CONNECT, CONNACK, DISCONNECT
  std::optional<std::string> assigned_client_identifier;      // 0x12 CONNACK
  std::optional<std::uint16_t> server_keep_alive;             // 0x13 CONNACK
  std::optional<std::string> authentication_method;           // 0x15 CONNECT, CONNACK, AUTH
  std::optional<std::string> authentication_data;             // 0x16 CONNECT, CONNACK, AUTH (binary)
  std::optional<std::uint8_t> request_problem_information;    // 0x17 CONNECT
  std::optional<std::uint32_t> will_delay_interval;           // 0x18 will
  std::optional<std::uint8_t> request_response_information;   // 0x19 CONNECT
  std::optional<std::string> response_information;            // 0x1A CONNACK
  std::optional<std::string> server_reference;                // 0x1C CONNACK, DISCONNECT
  std::optional<std::string> reason_string;                   // 0x1F acks, DISCONNECT, AUTH
  std::optional<std::uint16_t> receive_maximum;               // 0x21 CONNECT, CONNACK
  std::optional<std::uint16_t> topic_alias_maximum;           // 0x22 CONNECT, CONNACK
  std::optional<std::uint16_t> topic_alias;                   // 0x23 PUBLISH
  std::optional<std::uint8_t> maximum_qos;                    // 0x24 CONNACK
  std::optional<std::uint8_t> retain_available;               // 0x25 CONNACK
  StringPairs user_properties;                                // 0x26 all, in order, repeats allowed
  std::optional<std::uint32_t> maximum_packet_size;           // 0x27 CONNECT, CONNACK
  std::optional<std::uint8_t> wildcard_subscription_available;        // 0x28 CONNACK
  std::optional<std::uint8_t> subscription_identifiers_available;     // 0x29 CONNACK
  std::optional<std::uint8_t> shared_subscription_available;          // 0x2A CONNACK

  bool operator==(const Properties&) const = default;
};

}  // namespace routemq::mqtt
