#include "core/mqtt/protocol/property_rules.hpp"

#include <array>

namespace routemq::mqtt {

namespace {

constexpr PropertyPlaces connect = place_of(PacketType::connect);
constexpr PropertyPlaces connack = place_of(PacketType::connack);
constexpr PropertyPlaces publish = place_of(PacketType::publish);
constexpr PropertyPlaces will = will_place;
constexpr PropertyPlaces acks = place_of(PacketType::puback) | place_of(PacketType::pubrec) |
                                place_of(PacketType::pubrel) | place_of(PacketType::pubcomp);
constexpr PropertyPlaces subscribe = place_of(PacketType::subscribe);
constexpr PropertyPlaces suback = place_of(PacketType::suback);
constexpr PropertyPlaces unsubscribe = place_of(PacketType::unsubscribe);
constexpr PropertyPlaces unsuback = place_of(PacketType::unsuback);
constexpr PropertyPlaces disconnect = place_of(PacketType::disconnect);
constexpr PropertyPlaces auth = place_of(PacketType::auth);
constexpr PropertyPlaces everywhere = connect | connack | publish | will | acks | subscribe | suback | unsubscribe |
                                      unsuback | disconnect | auth;

using F = PropertyForm;
namespace id = property_id;

// Table 2-4 of OASIS MQTT 5.0, row by row.
constexpr std::array rules{
    PropertyRule{id::payload_format_indicator, "payload format indicator", F::byte, publish | will, false, true},
    PropertyRule{id::message_expiry_interval, "message expiry interval", F::four_byte, publish | will},
    PropertyRule{id::content_type, "content type", F::utf8, publish | will},
    PropertyRule{id::response_topic, "response topic", F::utf8, publish | will},
    PropertyRule{id::correlation_data, "correlation data", F::binary, publish | will},
    // Repeatable in PUBLISH only (3.3.2.3.8); SUBSCRIBE's single one is checked by its decoder (3.8.2.1.2).
    PropertyRule{id::subscription_identifier, "subscription identifier", F::variable_byte, publish | subscribe, true},
    PropertyRule{id::session_expiry_interval, "session expiry interval", F::four_byte, connect | connack | disconnect},
    PropertyRule{id::assigned_client_identifier, "assigned client identifier", F::utf8, connack},
    PropertyRule{id::server_keep_alive, "server keep alive", F::two_byte, connack},
    PropertyRule{id::authentication_method, "authentication method", F::utf8, connect | connack | auth},
    PropertyRule{id::authentication_data, "authentication data", F::binary, connect | connack | auth},
    PropertyRule{id::request_problem_information, "request problem information", F::byte, connect, false, true},
    PropertyRule{id::will_delay_interval, "will delay interval", F::four_byte, will},
    PropertyRule{id::request_response_information, "request response information", F::byte, connect, false, true},
    PropertyRule{id::response_information, "response information", F::utf8, connack},
    PropertyRule{id::server_reference, "server reference", F::utf8, connack | disconnect},
    PropertyRule{id::reason_string, "reason string", F::utf8, connack | acks | suback | unsuback | disconnect | auth},
    PropertyRule{id::receive_maximum, "receive maximum", F::two_byte, connect | connack},
    PropertyRule{id::topic_alias_maximum, "topic alias maximum", F::two_byte, connect | connack},
    PropertyRule{id::topic_alias, "topic alias", F::two_byte, publish},
    PropertyRule{id::maximum_qos, "maximum QoS", F::byte, connack, false, true},
    PropertyRule{id::retain_available, "retain available", F::byte, connack, false, true},
    PropertyRule{id::user_property, "user property", F::utf8_pair, everywhere, true},
    PropertyRule{id::maximum_packet_size, "maximum packet size", F::four_byte, connect | connack},
    PropertyRule{id::wildcard_subscription_available, "wildcard subscription available", F::byte, connack, false,
                 true},
    PropertyRule{id::subscription_identifiers_available, "subscription identifiers available", F::byte, connack,
                 false, true},
    PropertyRule{id::shared_subscription_available, "shared subscription available", F::byte, connack, false, true},
};

}  // namespace

const PropertyRule* find_property_rule(std::uint8_t id) {
  for (const auto& rule : rules)
    if (rule.id == id) return &rule;
  return nullptr;
}

}  // namespace routemq::mqtt
