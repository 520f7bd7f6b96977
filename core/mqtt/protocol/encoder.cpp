#include "core/mqtt/protocol/encoder.hpp"

#include <stdexcept>
#include <string_view>

#include "core/mqtt/protocol/property_rules.hpp"

namespace routemq::mqtt {

namespace {

// Each packet's body is written once through a sink that only counts (for encoded_size() and the
// remaining length and property lengths that precede what they measure) and once through one that
// appends: one description of the layout, so size and bytes cannot disagree.
struct Counter {
  std::size_t size = 0;
  void byte(std::uint8_t) { ++size; }
  void bytes(std::string_view data) { size += data.size(); }
};

struct Appender {
  std::string& out;
  void byte(std::uint8_t value) { out.push_back(static_cast<char>(value)); }
  void bytes(std::string_view data) { out.append(data); }
};

std::size_t variable_byte_integer_size(std::uint32_t value) {
  if (value < 128) return 1;
  if (value < 16'384) return 2;
  if (value < 2'097'152) return 3;
  return 4;
}

template <class Sink>
void write_vbi(Sink& sink, std::uint32_t value) {
  // 1.5.5: seven bits a byte, least significant first, the high bit saying "more follows".
  if (value > max_variable_byte_integer) throw std::length_error("MQTT variable byte integer above 268,435,455");
  do {
    auto digit = static_cast<std::uint8_t>(value % 128);
    value /= 128;
    if (value > 0) digit |= 0x80;
    sink.byte(digit);
  } while (value > 0);
}

template <class Sink>
void write_u16(Sink& sink, std::uint16_t value) {
  sink.byte(static_cast<std::uint8_t>(value >> 8));
  sink.byte(static_cast<std::uint8_t>(value));
}

template <class Sink>
void write_u32(Sink& sink, std::uint32_t value) {
  write_u16(sink, static_cast<std::uint16_t>(value >> 16));
  write_u16(sink, static_cast<std::uint16_t>(value));
}

// UTF-8 strings and binary data alike: a two-byte length, then the bytes (1.5.4, 1.5.6). The encoder
// trusts the caller for UTF-8 validity (it is the sender's duty; the reader checks what it receives).
template <class Sink>
void write_string(Sink& sink, std::string_view text) {
  if (text.size() > 0xFFFF) throw std::length_error("MQTT string or binary data longer than 65,535 bytes");
  write_u16(sink, static_cast<std::uint16_t>(text.size()));
  sink.bytes(text);
}

template <class Sink>
void write_byte_property(Sink& sink, std::uint8_t id, const std::optional<std::uint8_t>& value) {
  if (!value) return;
  sink.byte(id);
  sink.byte(*value);
}

template <class Sink>
void write_u16_property(Sink& sink, std::uint8_t id, const std::optional<std::uint16_t>& value) {
  if (!value) return;
  sink.byte(id);
  write_u16(sink, *value);
}

template <class Sink>
void write_u32_property(Sink& sink, std::uint8_t id, const std::optional<std::uint32_t>& value) {
  if (!value) return;
  sink.byte(id);
  write_u32(sink, *value);
}

template <class Sink>
void write_string_property(Sink& sink, std::uint8_t id, const std::optional<std::string>& value) {
  if (!value) return;
  sink.byte(id);
  write_string(sink, *value);
}

// The properties themselves, in identifier order; user properties in the caller's order (their order
// is meaningful to the receiver, 3.3.2.3.7).
template <class Sink>
void write_property_list(Sink& sink, const Properties& p) {
  namespace id = property_id;
  write_byte_property(sink, id::payload_format_indicator, p.payload_format_indicator);
  write_u32_property(sink, id::message_expiry_interval, p.message_expiry_interval);
  write_string_property(sink, id::content_type, p.content_type);
  write_string_property(sink, id::response_topic, p.response_topic);
  write_string_property(sink, id::correlation_data, p.correlation_data);
  for (std::uint32_t identifier : p.subscription_identifiers) {
    // 3.3.2.3.8: 1 to 268,435,455; 0 is a protocol error the receiver would disconnect for.
    if (identifier == 0) throw std::logic_error("MQTT subscription identifier 0");
    sink.byte(id::subscription_identifier);
    write_vbi(sink, identifier);
  }
  write_u32_property(sink, id::session_expiry_interval, p.session_expiry_interval);
  write_string_property(sink, id::assigned_client_identifier, p.assigned_client_identifier);
  write_u16_property(sink, id::server_keep_alive, p.server_keep_alive);
  write_string_property(sink, id::authentication_method, p.authentication_method);
  write_string_property(sink, id::authentication_data, p.authentication_data);
  write_byte_property(sink, id::request_problem_information, p.request_problem_information);
  write_u32_property(sink, id::will_delay_interval, p.will_delay_interval);
  write_byte_property(sink, id::request_response_information, p.request_response_information);
  write_string_property(sink, id::response_information, p.response_information);
  write_string_property(sink, id::server_reference, p.server_reference);
  write_string_property(sink, id::reason_string, p.reason_string);
  write_u16_property(sink, id::receive_maximum, p.receive_maximum);
  write_u16_property(sink, id::topic_alias_maximum, p.topic_alias_maximum);
  write_u16_property(sink, id::topic_alias, p.topic_alias);
  write_byte_property(sink, id::maximum_qos, p.maximum_qos);
  write_byte_property(sink, id::retain_available, p.retain_available);
  for (const auto& [key, value] : p.user_properties) {
    sink.byte(id::user_property);
    write_string(sink, key);
    write_string(sink, value);
  }
  write_u32_property(sink, id::maximum_packet_size, p.maximum_packet_size);
  write_byte_property(sink, id::wildcard_subscription_available, p.wildcard_subscription_available);
  write_byte_property(sink, id::subscription_identifiers_available, p.subscription_identifiers_available);
  write_byte_property(sink, id::shared_subscription_available, p.shared_subscription_available);
}

// The property length (a Variable Byte Integer, 2.2.2.1) and the properties.
template <class Sink>
void write_properties(Sink& sink, const Properties& properties) {
  Counter length;
  write_property_list(length, properties);
  if (length.size > max_variable_byte_integer) throw std::length_error("MQTT properties too long");
  write_vbi(sink, static_cast<std::uint32_t>(length.size));
  write_property_list(sink, properties);
}

bool has_properties(const Properties& properties) { return properties != Properties{}; }

// 3.1.2.3: the Connect Flags byte.
std::uint8_t connect_flags(const Connect& c) {
  std::uint8_t flags = 0;
  if (c.clean_start) flags |= 0x02;
  if (c.will) {
    flags |= 0x04;
    flags |= static_cast<std::uint8_t>((c.will->qos & 0x03) << 3);
    if (c.will->retain) flags |= 0x20;
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  return flags;
}

template <class Sink>
void write_body(Sink& sink, const Connect& c, Version version) {
  // 3.1.2.1-2: protocol name "MQTT" and level 4 (3.1.1) or 5. The connection's version decides, not
  // c.version, so that one CONNECT value cannot be written in two shapes on one connection.
  write_string(sink, "MQTT");
  sink.byte(static_cast<std::uint8_t>(version));
  sink.byte(connect_flags(c));
  write_u16(sink, c.keep_alive_s);
  if (version == Version::v5) write_properties(sink, c.properties);
  write_string(sink, c.client_id);
  if (c.will) {
    if (version == Version::v5) write_properties(sink, c.will->properties);
    write_string(sink, c.will->topic);
    write_string(sink, c.will->payload);
  }
  if (c.username) write_string(sink, *c.username);
  if (c.password) write_string(sink, *c.password);
}

template <class Sink>
void write_body(Sink& sink, const Connack& c, Version version) {
  sink.byte(c.session_present ? 0x01 : 0x00);
  sink.byte(c.reason_code);
  if (version == Version::v5) write_properties(sink, c.properties);  // always present in CONNACK (3.2.2.3)
}

template <class Sink>
void write_body(Sink& sink, const Publish& p, Version version) {
  write_string(sink, p.topic);
  if (p.qos > 0) write_u16(sink, p.packet_id);
  if (version == Version::v5) write_properties(sink, p.properties);
  sink.bytes(p.payload);  // the rest of the packet, no length of its own (3.3.3)
}

// The v5 short forms of 3.4.2.1 (and 3.5-3.7): reason code and property length are left out when the
// reason is success and there are no properties; the property length alone when there are none.
template <class Sink>
void write_reason_and_properties(Sink& sink, std::uint8_t reason_code, const Properties& properties) {
  if (reason_code == 0 && !has_properties(properties)) return;
  sink.byte(reason_code);
  if (has_properties(properties)) write_properties(sink, properties);
}

template <class Sink>
void write_body(Sink& sink, const PublishAck& a, Version version) {
  write_u16(sink, a.packet_id);
  if (version == Version::v5) write_reason_and_properties(sink, a.reason_code, a.properties);
}

// 3.8.3.1: the Subscription Options byte; 3.1.1 has only the QoS bits (3.8.3).
std::uint8_t subscription_options(const SubscribeTopic& t, Version version) {
  auto options = static_cast<std::uint8_t>(t.qos & 0x03);
  if (version == Version::v5) {
    if (t.no_local) options |= 0x04;
    if (t.retain_as_published) options |= 0x08;
    options |= static_cast<std::uint8_t>((t.retain_handling & 0x03) << 4);
  }
  return options;
}

template <class Sink>
void write_body(Sink& sink, const Subscribe& s, Version version) {
  write_u16(sink, s.packet_id);
  if (version == Version::v5) write_properties(sink, s.properties);
  for (const auto& topic : s.topics) {
    write_string(sink, topic.filter);
    sink.byte(subscription_options(topic, version));
  }
}

template <class Sink>
void write_body(Sink& sink, const Suback& s, Version version) {
  write_u16(sink, s.packet_id);
  if (version == Version::v5) write_properties(sink, s.properties);
  for (std::uint8_t code : s.reason_codes) sink.byte(code);
}

template <class Sink>
void write_body(Sink& sink, const Unsubscribe& u, Version version) {
  write_u16(sink, u.packet_id);
  if (version == Version::v5) write_properties(sink, u.properties);
  for (const auto& filter : u.filters) write_string(sink, filter);
}

template <class Sink>
void write_body(Sink& sink, const Unsuback& u, Version version) {
  write_u16(sink, u.packet_id);
  if (version == Version::v5) {  // 3.1.1's UNSUBACK is the packet id alone (3.11.2)
    write_properties(sink, u.properties);
    for (std::uint8_t code : u.reason_codes) sink.byte(code);
  }
}

template <class Sink>
void write_body(Sink&, const Pingreq&, Version) {}

template <class Sink>
void write_body(Sink&, const Pingresp&, Version) {}

template <class Sink>
void write_body(Sink& sink, const Disconnect& d, Version version) {
  // 3.14.2.1: remaining length 0 means normal disconnection; 3.14.2.2.1: a length of 1 means no
  // properties. 3.1.1's DISCONNECT has no variable header.
  if (version == Version::v5) write_reason_and_properties(sink, d.reason_code, d.properties);
}

template <class Sink>
void write_body(Sink& sink, const Auth& a, Version) {
  // 3.15.2.1: both may be left out only together, for success without properties.
  if (a.reason_code == 0 && !has_properties(a.properties)) return;
  sink.byte(a.reason_code);
  write_properties(sink, a.properties);
}

template <class Sink>
void write_body(Sink&, const OversizedPublish&, Version) {
  throw std::logic_error("OversizedPublish is not an MQTT packet and cannot be encoded");
}

// 2.1.2-2.1.3: the first byte, packet type and flags.
std::uint8_t first_byte(const Packet& packet, Version version) {
  auto type_nibble = [](PacketType type) { return static_cast<std::uint8_t>(static_cast<unsigned>(type) << 4); };
  struct Visitor {
    decltype(type_nibble)& nibble;
    Version version;
    std::uint8_t operator()(const Connect&) const { return nibble(PacketType::connect); }
    std::uint8_t operator()(const Connack&) const { return nibble(PacketType::connack); }
    std::uint8_t operator()(const Publish& p) const {
      // 3.3.1: DUP bit 3, QoS bits 2-1, RETAIN bit 0.
      if (p.qos > 2) throw std::logic_error("MQTT PUBLISH with QoS above 2");
      return static_cast<std::uint8_t>(nibble(PacketType::publish) | (p.dup ? 0x08 : 0) | (p.qos << 1) |
                                       (p.retain ? 0x01 : 0));
    }
    std::uint8_t operator()(const PublishAck& a) const {
      switch (a.type) {
        case PacketType::puback:
        case PacketType::pubrec:
        case PacketType::pubcomp: return nibble(a.type);
        case PacketType::pubrel: return nibble(a.type) | 0x02;  // [MQTT-3.6.1-1]
        default: throw std::logic_error("PublishAck with a type other than PUBACK, PUBREC, PUBREL, PUBCOMP");
      }
    }
    std::uint8_t operator()(const Subscribe&) const { return nibble(PacketType::subscribe) | 0x02; }  // [MQTT-3.8.1-1]
    std::uint8_t operator()(const Suback&) const { return nibble(PacketType::suback); }
    std::uint8_t operator()(const Unsubscribe&) const {
      return nibble(PacketType::unsubscribe) | 0x02;  // [MQTT-3.10.1-1]
    }
    std::uint8_t operator()(const Unsuback&) const { return nibble(PacketType::unsuback); }
    std::uint8_t operator()(const Pingreq&) const { return nibble(PacketType::pingreq); }
    std::uint8_t operator()(const Pingresp&) const { return nibble(PacketType::pingresp); }
    std::uint8_t operator()(const Disconnect&) const { return nibble(PacketType::disconnect); }
    std::uint8_t operator()(const Auth&) const {
      if (version != Version::v5) throw std::logic_error("AUTH does not exist in MQTT 3.1.1");
      return nibble(PacketType::auth);
    }
    std::uint8_t operator()(const OversizedPublish&) const {
      throw std::logic_error("OversizedPublish is not an MQTT packet and cannot be encoded");
    }
  };
  return std::visit(Visitor{type_nibble, version}, packet);
}

std::size_t remaining_length(const Packet& packet, Version version) {
  Counter counter;
  std::visit([&](const auto& p) { write_body(counter, p, version); }, packet);
  if (counter.size > max_variable_byte_integer) throw std::length_error("MQTT packet larger than 268,435,455 bytes");
  return counter.size;
}

}  // namespace

void append_variable_byte_integer(std::uint32_t value, std::string& out) {
  Appender sink{out};
  write_vbi(sink, value);
}

void encode(const Packet& packet, Version version, std::string& out) {
  const std::uint8_t first = first_byte(packet, version);
  const std::size_t length = remaining_length(packet, version);
  out.reserve(out.size() + 1 + variable_byte_integer_size(static_cast<std::uint32_t>(length)) + length);
  Appender sink{out};
  sink.byte(first);
  write_vbi(sink, static_cast<std::uint32_t>(length));
  std::visit([&](const auto& p) { write_body(sink, p, version); }, packet);
}

std::size_t encoded_size(const Packet& packet, Version version) {
  first_byte(packet, version);  // the same logic errors as encode()
  const std::size_t length = remaining_length(packet, version);
  return 1 + variable_byte_integer_size(static_cast<std::uint32_t>(length)) + length;
}

}  // namespace routemq::mqtt
