#include "core/mqtt/protocol/packet_reader.hpp"

#include <algorithm>
#include <bitset>
#include <cstdio>
#include <utility>

#include "core/mqtt/protocol/property_rules.hpp"
#include "core/mqtt/protocol/reason_code.hpp"
#include "core/mqtt/protocol/utf8.hpp"

namespace routemq::mqtt {

namespace {

inline constexpr std::uint8_t unsupported_protocol_version = 0x84;

std::string hex(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(value));
  return text;
}

// A packet's body (what follows the fixed header) read front to back. Every read checks that the
// bytes are there: a field running past the remaining length is a malformed packet (MQTT 5, 1.5 and
// 2.1.4; 3.1.1, 2.2.3). The first failure is kept; later reads fail too, so a decoder can chain them.
class Cursor {
 public:
  Cursor(std::string_view data, const char* packet) : data_(data), packet_(packet) {}

  bool fail(std::uint8_t reason, const std::string& what) {
    if (!error_) error_ = DecodeError{reason, std::string(packet_) + ": " + what};
    return false;
  }
  bool malformed(const std::string& what) { return fail(reason::malformed_packet, what); }

  std::size_t offset() const { return pos_; }
  std::size_t left() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  const char* packet() const { return packet_; }
  std::optional<DecodeError>& error() { return error_; }

  bool u8(std::uint8_t& out, const char* field) {
    if (!need(1, field)) return false;
    out = byte_at(pos_++);
    return true;
  }
  bool u16(std::uint16_t& out, const char* field) {
    if (!need(2, field)) return false;
    out = static_cast<std::uint16_t>(byte_at(pos_) << 8 | byte_at(pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& out, const char* field) {
    if (!need(4, field)) return false;
    out = static_cast<std::uint32_t>(byte_at(pos_)) << 24 | static_cast<std::uint32_t>(byte_at(pos_ + 1)) << 16 |
          static_cast<std::uint32_t>(byte_at(pos_ + 2)) << 8 | byte_at(pos_ + 3);
    pos_ += 4;
    return true;
  }
  // 1.5.5: at most four bytes; a fifth is a malformed packet.
  bool variable_byte_integer(std::uint32_t& out, const char* field) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      std::uint8_t digit = 0;
      if (!u8(digit, field)) return false;
      value |= static_cast<std::uint32_t>(digit & 0x7F) << (7 * i);
      if ((digit & 0x80) == 0) {
        out = value;
        return true;
      }
    }
    return malformed(std::string(field) + " is a variable byte integer longer than 4 bytes");
  }
  // Binary data (1.5.6): a two-byte length and that many bytes.
  bool binary(std::string& out, const char* field) {
    std::string_view view;
    if (!string_view_of(view, field)) return false;
    out.assign(view);
    return true;
  }
  // A UTF-8 string (1.5.4): as binary data, and valid MQTT UTF-8.
  bool utf8(std::string& out, const char* field) {
    std::string_view view;
    if (!string_view_of(view, field)) return false;
    if (!valid_utf8(view, field, pos_ - view.size())) return false;
    out.assign(view);
    return true;
  }
  // The rest of the body, e.g. a PUBLISH payload.
  std::string_view rest() {
    auto view = data_.substr(pos_);
    pos_ = data_.size();
    return view;
  }
  // Bytes after the last field where the packet has no more: the remaining length disagrees with the
  // content, a malformed packet.
  bool expect_end(const char* after) {
    if (at_end()) return true;
    return malformed(std::to_string(left()) + " unexpected byte(s) after the " + after);
  }

 private:
  std::uint8_t byte_at(std::size_t i) const { return static_cast<std::uint8_t>(data_[i]); }

  bool need(std::size_t n, const char* field) {
    if (error_) return false;
    if (left() >= n) return true;
    return malformed(std::string(field) + " runs past the end of the packet (needs " + std::to_string(n) +
                     " byte(s) at offset " + std::to_string(pos_) + ", " + std::to_string(left()) + " left)");
  }

  bool string_view_of(std::string_view& out, const char* field) {
    std::uint16_t length = 0;
    if (!u16(length, field) || !need(length, field)) return false;
    out = data_.substr(pos_, length);
    pos_ += length;
    return true;
  }

  bool valid_utf8(std::string_view text, const char* field, std::size_t text_offset) {
    // [MQTT-1.5.4-1], [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-1], [MQTT-1.5.3-2]): a malformed packet.
    const auto problem = check_mqtt_utf8(text);
    if (!problem) return true;
    return malformed(std::string(field) + " is not valid UTF-8: " + problem->what + " (byte " + hex(problem->byte) +
                     " at offset " + std::to_string(text_offset + problem->offset) + ")");
  }

  std::string_view data_;
  const char* packet_;
  std::size_t pos_ = 0;
  std::optional<DecodeError> error_;
};

// ---- properties (MQTT 5, 2.2.2) ----

bool read_byte_value(Cursor& in, const PropertyRule& rule, std::optional<std::uint8_t>& out) {
  std::uint8_t value = 0;
  if (!in.u8(value, rule.name)) return false;
  // Each of these is "a Protocol Error to include ... with a value other than 0 or 1" (3.1.2.11.6-7,
  // 3.2.2.3.4-5, 3.2.2.3.11-13, 3.3.2.3.2).
  if (rule.boolean && value > 1)
    return in.fail(reason::protocol_error, std::string(rule.name) + " is " + std::to_string(value) + ", not 0 or 1");
  out = value;
  return true;
}

bool read_u16_value(Cursor& in, const PropertyRule& rule, std::optional<std::uint16_t>& out) {
  std::uint16_t value = 0;
  if (!in.u16(value, rule.name)) return false;
  // 3.1.2.11.3, 3.2.2.3.3: "It is a Protocol Error to include the Receive Maximum value of 0".
  if (rule.id == property_id::receive_maximum && value == 0)
    return in.fail(reason::protocol_error, "receive maximum is 0");
  out = value;
  return true;
}

bool read_u32_value(Cursor& in, const PropertyRule& rule, std::optional<std::uint32_t>& out) {
  std::uint32_t value = 0;
  if (!in.u32(value, rule.name)) return false;
  // 3.1.2.11.4, 3.2.2.3.6: "It is a Protocol Error to include ... the Maximum Packet Size ... 0".
  if (rule.id == property_id::maximum_packet_size && value == 0)
    return in.fail(reason::protocol_error, "maximum packet size is 0");
  out = value;
  return true;
}

bool read_string_value(Cursor& in, const PropertyRule& rule, std::optional<std::string>& out) {
  std::string value;
  const bool ok = rule.form == PropertyForm::binary ? in.binary(value, rule.name) : in.utf8(value, rule.name);
  if (ok) out = std::move(value);
  return ok;
}

bool read_subscription_identifier(Cursor& in, Properties& p) {
  std::uint32_t value = 0;
  if (!in.variable_byte_integer(value, "subscription identifier")) return false;
  // 3.3.2.3.8, 3.8.2.1.2: "It is a Protocol Error if the Subscription Identifier has a value of 0".
  if (value == 0) return in.fail(reason::protocol_error, "subscription identifier is 0");
  p.subscription_identifiers.push_back(value);
  return true;
}

bool read_user_property(Cursor& in, Properties& p) {
  std::string key;
  std::string value;
  if (!in.utf8(key, "user property name") || !in.utf8(value, "user property value")) return false;
  p.user_properties.emplace_back(std::move(key), std::move(value));
  return true;
}

bool read_property_value(Cursor& in, const PropertyRule& rule, Properties& p) {
  namespace id = property_id;
  switch (rule.id) {
    case id::payload_format_indicator: return read_byte_value(in, rule, p.payload_format_indicator);
    case id::message_expiry_interval: return read_u32_value(in, rule, p.message_expiry_interval);
    case id::content_type: return read_string_value(in, rule, p.content_type);
    case id::response_topic: return read_string_value(in, rule, p.response_topic);
    case id::correlation_data: return read_string_value(in, rule, p.correlation_data);
    case id::subscription_identifier: return read_subscription_identifier(in, p);
    case id::session_expiry_interval: return read_u32_value(in, rule, p.session_expiry_interval);
    case id::assigned_client_identifier: return read_string_value(in, rule, p.assigned_client_identifier);
    case id::server_keep_alive: return read_u16_value(in, rule, p.server_keep_alive);
    case id::authentication_method: return read_string_value(in, rule, p.authentication_method);
    case id::authentication_data: return read_string_value(in, rule, p.authentication_data);
    case id::request_problem_information: return read_byte_value(in, rule, p.request_problem_information);
    case id::will_delay_interval: return read_u32_value(in, rule, p.will_delay_interval);
    case id::request_response_information: return read_byte_value(in, rule, p.request_response_information);
    case id::response_information: return read_string_value(in, rule, p.response_information);
    case id::server_reference: return read_string_value(in, rule, p.server_reference);
    case id::reason_string: return read_string_value(in, rule, p.reason_string);
    case id::receive_maximum: return read_u16_value(in, rule, p.receive_maximum);
    case id::topic_alias_maximum: return read_u16_value(in, rule, p.topic_alias_maximum);
    case id::topic_alias: return read_u16_value(in, rule, p.topic_alias);  // 0 or unknown: the session's to judge
    case id::maximum_qos: return read_byte_value(in, rule, p.maximum_qos);
    case id::retain_available: return read_byte_value(in, rule, p.retain_available);
    case id::user_property: return read_user_property(in, p);
    case id::maximum_packet_size: return read_u32_value(in, rule, p.maximum_packet_size);
    case id::wildcard_subscription_available: return read_byte_value(in, rule, p.wildcard_subscription_available);
    case id::subscription_identifiers_available:
      return read_byte_value(in, rule, p.subscription_identifiers_available);
    case id::shared_subscription_available: return read_byte_value(in, rule, p.shared_subscription_available);
  }
  return in.malformed("unknown property identifier " + hex(rule.id));
}

// The property length and the properties (2.2.2), each checked against where it sits.
bool read_properties(Cursor& in, PropertyPlaces place, Properties& out, const char* what = "properties") {
  std::uint32_t length = 0;
  if (!in.variable_byte_integer(length, "property length")) return false;
  // The property length must not run past the remaining length: a malformed packet (2.2.2.1).
  if (length > in.left())
    return in.malformed(std::string(what) + " length " + std::to_string(length) + " runs past the end of the packet (" +
                        std::to_string(in.left()) + " byte(s) left)");
  const std::size_t end = in.offset() + length;
  std::bitset<256> seen;
  while (in.offset() < end) {
    std::uint32_t identifier = 0;
    // 2.2.2.2: the identifier is a Variable Byte Integer, though every defined one fits one byte.
    if (!in.variable_byte_integer(identifier, "property identifier")) return false;
    const PropertyRule* rule = identifier < 256 ? find_property_rule(static_cast<std::uint8_t>(identifier)) : nullptr;
    // 2.2.2.2: an unknown identifier cannot be skipped (its length is unknown): malformed.
    if (!rule) return in.malformed("unknown property identifier " + hex(identifier) + " in the " + what);
    // 2.2.2.2: "A Control Packet which contains an Identifier which is not valid for its packet type
    // ... is a Malformed Packet".
    if ((rule->places & place) == 0)
      return in.malformed(std::string(rule->name) + " (" + hex(rule->id) + ") is not allowed in the " + what);
    // Each property's section: "It is a Protocol Error to include the <property> more than once".
    if (seen[rule->id] && !rule->repeatable)
      return in.fail(reason::protocol_error, std::string(rule->name) + " (" + hex(rule->id) + ") appears twice");
    seen[rule->id] = true;
    if (!read_property_value(in, *rule, out)) return false;
    if (in.offset() > end)
      return in.malformed(std::string(rule->name) + " runs past the end of the " + what);
  }
  return true;
}

// ---- shared checks ----

// [MQTT-2.2.1-3] (3.1.1: [MQTT-2.3.1-1]): PUBLISH with QoS > 0, SUBSCRIBE, UNSUBSCRIBE and their
// acknowledgements carry a non-zero packet identifier.
bool read_packet_id(Cursor& in, std::uint16_t& out) {
  if (!in.u16(out, "packet identifier")) return false;
  if (out == 0) return in.malformed("packet identifier is 0 [MQTT-2.2.1-3]");
  return true;
}

// [MQTT-3.3.2-2]: a topic name has no wildcard characters; MQTT 5 names the reason 0x90 (topic name
// invalid), 3.1.1 has no reason codes and calls it malformed.
bool check_topic_name(Cursor& in, const std::string& topic, Version version) {
  if (topic.find_first_of("+#") != std::string::npos)
    return in.fail(version == Version::v5 ? reason::topic_name_invalid : reason::malformed_packet,
                   "topic name '" + topic + "' contains a wildcard (+ or #) [MQTT-3.3.2-2]");
  // [MQTT-4.7.3-1]: at least one character. MQTT 5 allows an empty name with a topic alias
  // (3.3.2.3.4); whether one is there is the session's to check.
  if (topic.empty() && version == Version::v311) return in.malformed("topic name is empty [MQTT-4.7.3-1]");
  return true;
}

// ---- each packet ----

struct Header {
  std::uint8_t first = 0;  // type and flags
  PacketType type() const { return static_cast<PacketType>(first >> 4); }
  std::uint8_t flags() const { return first & 0x0F; }
};

std::optional<Packet> decode_connect(Cursor& in, Version version) {
  Connect c;
  c.version = version;
  std::string protocol_name;
  std::uint8_t level = 0;
  std::uint8_t flags = 0;
  if (!in.utf8(protocol_name, "protocol name") || !in.u8(level, "protocol level")) return std::nullopt;
  // [MQTT-3.1.2-1] / 3.1.2.2: "MQTT", and the level this connection speaks (a reader per version).
  if (protocol_name != "MQTT" || level != static_cast<std::uint8_t>(version)) {
    in.fail(unsupported_protocol_version, "protocol '" + protocol_name + "' level " + std::to_string(level) +
                                              " is not MQTT level " + std::to_string(static_cast<int>(version)));
    return std::nullopt;
  }
  if (!in.u8(flags, "connect flags") || !in.u16(c.keep_alive_s, "keep alive")) return std::nullopt;
  // [MQTT-3.1.2-3]: the reserved flag is 0.
  if (flags & 0x01) return in.malformed("reserved connect flag is set [MQTT-3.1.2-3]"), std::nullopt;
  c.clean_start = flags & 0x02;
  const bool will = flags & 0x04;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_username = flags & 0x80;
  // [MQTT-3.1.2-11], [MQTT-3.1.2-13] (3.1.1: -13, -15): no will, no will QoS or retain.
  if (!will && (will_qos != 0 || will_retain))
    return in.malformed("will QoS or will retain set without the will flag [MQTT-3.1.2-11]"), std::nullopt;
  // [MQTT-3.1.2-12] (3.1.1: -14): will QoS 3 is malformed.
  if (will_qos == 3) return in.malformed("will QoS is 3 [MQTT-3.1.2-12]"), std::nullopt;
  // 3.1.1 [MQTT-3.1.2-22]: no password without a user name (MQTT 5 allows it, 3.1.2.9).
  if (version == Version::v311 && has_password && !has_username)
    return in.malformed("password without a user name [MQTT-3.1.2-22]"), std::nullopt;
  if (version == Version::v5 && !read_properties(in, place_of(PacketType::connect), c.properties))
    return std::nullopt;
  if (!in.utf8(c.client_id, "client identifier")) return std::nullopt;
  if (will) {
    Will w;
    w.qos = will_qos;
    w.retain = will_retain;
    if (version == Version::v5 && !read_properties(in, will_place, w.properties, "will properties"))
      return std::nullopt;
    if (!in.utf8(w.topic, "will topic") || !in.binary(w.payload, "will payload")) return std::nullopt;
    c.will = std::move(w);
  }
  if (has_username && !in.utf8(c.username.emplace(), "user name")) return std::nullopt;
  if (has_password && !in.binary(c.password.emplace(), "password")) return std::nullopt;
  if (!in.expect_end("payload")) return std::nullopt;
  return c;
}

std::optional<Packet> decode_connack(Cursor& in, Version version) {
  Connack c;
  std::uint8_t flags = 0;
  if (!in.u8(flags, "connect acknowledge flags") || !in.u8(c.reason_code, "reason code")) return std::nullopt;
  // [MQTT-3.2.2-1] (both versions): bits 7-1 are reserved, 0.
  if (flags & 0xFE) return in.malformed("reserved acknowledge flags set (" + hex(flags) + ")"), std::nullopt;
  c.session_present = flags & 0x01;
  // [MQTT-3.2.2-6] (3.1.1: [MQTT-3.2.2-4]): a refusal has session present 0.
  if (c.session_present && c.reason_code != 0)
    return in.malformed("session present with a refusal (" + hex(c.reason_code) + ")"), std::nullopt;
  if (version == Version::v5 && !read_properties(in, place_of(PacketType::connack), c.properties))
    return std::nullopt;
  if (!in.expect_end(version == Version::v5 ? "properties" : "return code")) return std::nullopt;
  return c;
}

std::optional<Packet> decode_publish(Cursor& in, Header header, Version version) {
  Publish p;
  p.dup = header.flags() & 0x08;
  p.qos = static_cast<std::uint8_t>((header.flags() >> 1) & 0x03);  // 3 was refused with the fixed header
  p.retain = header.flags() & 0x01;
  if (!in.utf8(p.topic, "topic name") || !check_topic_name(in, p.topic, version)) return std::nullopt;
  if (p.qos > 0 && !read_packet_id(in, p.packet_id)) return std::nullopt;
  if (version == Version::v5 && !read_properties(in, place_of(PacketType::publish), p.properties))
    return std::nullopt;
  p.payload.assign(in.rest());  // 3.3.3: the rest of the packet, possibly empty
  return p;
}

// v5 short forms (3.4.2.1, 3.14.2.1 ...): no reason code means success; no property length means none.
bool read_optional_reason_and_properties(Cursor& in, PropertyPlaces place, std::uint8_t& reason_code,
                                         Properties& properties) {
  if (in.at_end()) return true;
  if (!in.u8(reason_code, "reason code")) return false;
  if (in.at_end()) return true;
  return read_properties(in, place, properties) && in.expect_end("properties");
}

std::optional<Packet> decode_publish_ack(Cursor& in, PacketType type, Version version) {
  PublishAck a;
  a.type = type;
  if (!read_packet_id(in, a.packet_id)) return std::nullopt;
  if (version == Version::v311) {
    // 3.1.1, 3.4-3.7: remaining length 2, the packet id alone.
    if (!in.expect_end("packet identifier")) return std::nullopt;
    return a;
  }
  if (!read_optional_reason_and_properties(in, place_of(type), a.reason_code, a.properties)) return std::nullopt;
  return a;
}

// Subscription options (3.8.3.1; 3.1.1: 3.8.3): reserved bits 0, QoS not 3, retain handling not 3.
bool read_subscription_options(Cursor& in, SubscribeTopic& topic, Version version) {
  std::uint8_t options = 0;
  if (!in.u8(options, "subscription options")) return false;
  const std::uint8_t reserved = version == Version::v5 ? 0xC0 : 0xFC;
  // [MQTT-3.8.3-5] (3.1.1: [MQTT-3-8.3-4]): reserved bits set is malformed.
  if (options & reserved) return in.malformed("reserved subscription option bits set (" + hex(options) + ")");
  topic.qos = options & 0x03;
  // 3.8.3.1 (3.1.1: [MQTT-3-8.3-4]): QoS 3 is malformed.
  if (topic.qos == 3) return in.malformed("requested QoS 3 for '" + topic.filter + "'");
  if (version == Version::v5) {
    topic.no_local = options & 0x04;
    topic.retain_as_published = options & 0x08;
    topic.retain_handling = static_cast<std::uint8_t>((options >> 4) & 0x03);
    // 3.8.3.1: "It is a Protocol Error to send a Retain Handling value of 3".
    if (topic.retain_handling == 3)
      return in.fail(reason::protocol_error, "retain handling 3 for '" + topic.filter + "'");
  }
  return true;
}

// A topic filter is at least one character long [MQTT-4.7.3-1]; wildcard placement is the broker's
// to judge (0x8F), not a question of form.
bool read_topic_filter(Cursor& in, std::string& filter) {
  if (!in.utf8(filter, "topic filter")) return false;
  if (filter.empty()) return in.malformed("empty topic filter [MQTT-4.7.3-1]");
  return true;
}

std::optional<Packet> decode_subscribe(Cursor& in, Version version) {
  Subscribe s;
  if (!read_packet_id(in, s.packet_id)) return std::nullopt;
  if (version == Version::v5) {
    if (!read_properties(in, place_of(PacketType::subscribe), s.properties)) return std::nullopt;
    // 3.8.2.1.2: "It is a Protocol Error to include the Subscription Identifier more than once."
    if (s.properties.subscription_identifiers.size() > 1)
      return in.fail(reason::protocol_error, "more than one subscription identifier"), std::nullopt;
  }
  // [MQTT-3.8.3-2] (3.1.1: [MQTT-3.8.3-3]): at least one topic filter.
  if (in.at_end()) return in.malformed("no topic filter [MQTT-3.8.3-2]"), std::nullopt;
  while (!in.at_end()) {
    SubscribeTopic topic;
    if (!read_topic_filter(in, topic.filter) || !read_subscription_options(in, topic, version)) return std::nullopt;
    s.topics.push_back(std::move(topic));
  }
  return s;
}

bool valid_suback_code(std::uint8_t code, Version version) {
  // 3.1.1 [MQTT-3.9.3-2]: 0x00, 0x01, 0x02 and 0x80 only. MQTT 5, 3.9.3: Table 3-8.
  switch (code) {
    case 0x00: case 0x01: case 0x02: case 0x80: return true;
    case 0x83: case 0x87: case 0x8F: case 0x91: case 0x97: case 0x9E: case 0xA1: case 0xA2:
      return version == Version::v5;
    default: return false;
  }
}

std::optional<Packet> decode_suback(Cursor& in, Version version) {
  Suback s;
  if (!read_packet_id(in, s.packet_id)) return std::nullopt;
  if (version == Version::v5 && !read_properties(in, place_of(PacketType::suback), s.properties))
    return std::nullopt;
  // One code per requested topic, and a SUBSCRIBE has at least one (3.9.3).
  if (in.at_end()) return in.malformed("no reason code"), std::nullopt;
  for (char byte : in.rest()) {
    const auto code = static_cast<std::uint8_t>(byte);
    if (!valid_suback_code(code, version)) {
      in.fail(reason::malformed_packet, "reason code " + hex(code) + " is not a SUBACK code");
      return std::nullopt;
    }
    s.reason_codes.push_back(code);
  }
  return s;
}

std::optional<Packet> decode_unsubscribe(Cursor& in, Version version) {
  Unsubscribe u;
  if (!read_packet_id(in, u.packet_id)) return std::nullopt;
  if (version == Version::v5 && !read_properties(in, place_of(PacketType::unsubscribe), u.properties))
    return std::nullopt;
  // [MQTT-3.10.3-2]: at least one topic filter.
  if (in.at_end()) return in.malformed("no topic filter [MQTT-3.10.3-2]"), std::nullopt;
  while (!in.at_end()) {
    if (!read_topic_filter(in, u.filters.emplace_back())) return std::nullopt;
  }
  return u;
}

bool valid_unsuback_code(std::uint8_t code) {
  switch (code) {  // MQTT 5, 3.11.3, Table 3-9
    case 0x00: case 0x11: case 0x80: case 0x83: case 0x87: case 0x8F: case 0x91: return true;
    default: return false;
  }
}

std::optional<Packet> decode_unsuback(Cursor& in, Version version) {
  Unsuback u;
  if (!read_packet_id(in, u.packet_id)) return std::nullopt;
  if (version == Version::v311) {
    // 3.1.1, 3.11: remaining length 2, no payload.
    if (!in.expect_end("packet identifier")) return std::nullopt;
    return u;
  }
  if (!read_properties(in, place_of(PacketType::unsuback), u.properties)) return std::nullopt;
  if (in.at_end()) return in.malformed("no reason code"), std::nullopt;
  for (char byte : in.rest()) {
    const auto code = static_cast<std::uint8_t>(byte);
    if (!valid_unsuback_code(code)) {
      in.fail(reason::malformed_packet, "reason code " + hex(code) + " is not an UNSUBACK code");
      return std::nullopt;
    }
    u.reason_codes.push_back(code);
  }
  return u;
}

std::optional<Packet> decode_disconnect(Cursor& in, Version version) {
  Disconnect d;
  if (version == Version::v311) {
    if (!in.expect_end("fixed header")) return std::nullopt;  // 3.1.1, 3.14: no variable header
    return d;
  }
  // 3.14.2.1: remaining length 0 is a normal disconnection; < 2 means no properties (3.14.2.2.1).
  if (!read_optional_reason_and_properties(in, place_of(PacketType::disconnect), d.reason_code, d.properties))
    return std::nullopt;
  return d;
}

std::optional<Packet> decode_auth(Cursor& in) {
  Auth a;
  // 3.15.2.1: remaining length 0 means success without properties.
  if (!read_optional_reason_and_properties(in, place_of(PacketType::auth), a.reason_code, a.properties))
    return std::nullopt;
  return a;
}

template <class Empty>
std::optional<Packet> decode_empty(Cursor& in) {
  // 3.12, 3.13: PINGREQ and PINGRESP have no variable header and no payload.
  if (!in.expect_end("fixed header")) return std::nullopt;
  return Empty{};
}

std::optional<Packet> decode_body(Header header, Version version, Cursor& in) {
  switch (header.type()) {
    case PacketType::connect: return decode_connect(in, version);
    case PacketType::connack: return decode_connack(in, version);
    case PacketType::publish: return decode_publish(in, header, version);
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubrel:
    case PacketType::pubcomp: return decode_publish_ack(in, header.type(), version);
    case PacketType::subscribe: return decode_subscribe(in, version);
    case PacketType::suback: return decode_suback(in, version);
    case PacketType::unsubscribe: return decode_unsubscribe(in, version);
    case PacketType::unsuback: return decode_unsuback(in, version);
    case PacketType::pingreq: return decode_empty<Pingreq>(in);
    case PacketType::pingresp: return decode_empty<Pingresp>(in);
    case PacketType::disconnect: return decode_disconnect(in, version);
    case PacketType::auth: return decode_auth(in);
  }
  in.malformed("reserved packet type");
  return std::nullopt;
}

// The first byte alone: reserved packet types and the flags each type must carry. MQTT 5, 2.1.3
// [MQTT-2.1.3-1]; 3.1.1, 2.2.2 [MQTT-2.2.2-1], [MQTT-2.2.2-2]: anything else is malformed.
std::optional<DecodeError> check_first_byte(std::uint8_t first, Version version) {
  const unsigned type = first >> 4;
  const unsigned flags = first & 0x0F;
  auto malformed = [](std::string what) { return DecodeError{reason::malformed_packet, std::move(what)}; };
  // 2.1.2: type 0 is reserved; 15 (AUTH) only exists in MQTT 5.
  if (type == 0) return malformed("reserved packet type 0 (first byte " + hex(first) + ")");
  if (type == 15 && version == Version::v311) return malformed("packet type 15 is reserved in MQTT 3.1.1");
  const auto packet_type = static_cast<PacketType>(type);
  const char* name = to_string(packet_type);
  if (packet_type == PacketType::publish) {
    // [MQTT-3.3.1-4]: a PUBLISH with both QoS bits set is malformed.
    if ((flags & 0x06) == 0x06) return malformed(std::string(name) + ": QoS 3 (first byte " + hex(first) + ")");
    return std::nullopt;
  }
  // [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1]: PUBREL, SUBSCRIBE, UNSUBSCRIBE carry 0b0010;
  // every other type 0b0000.
  const bool two = packet_type == PacketType::pubrel || packet_type == PacketType::subscribe ||
                   packet_type == PacketType::unsubscribe;
  const unsigned expected = two ? 0x02 : 0x00;
  if (flags != expected)
    return malformed(std::string(name) + ": fixed header flags " + hex(flags) + ", must be " + hex(expected) +
                     " [MQTT-2.1.3-1]");
  return std::nullopt;
}

}  // namespace

PacketReader::PacketReader(Version version, std::size_t maximum_packet_size, bool oversized_is_error)
    : version_(version), maximum_packet_size_(maximum_packet_size), oversized_is_error_(oversized_is_error) {}

void PacketReader::feed(std::string_view bytes) {
  if (error_) return;  // sticky: nothing more is read
  // The tail of an oversized PUBLISH is read past without being kept.
  if (skipping_ > 0) {
    const std::size_t skipped = std::min(skipping_, bytes.size());
    skipping_ -= skipped;
    bytes.remove_prefix(skipped);
  }
  if (bytes.empty()) return;
  // Compact only once the consumed front is at least as large as what is left: each byte is then
  // moved a bounded number of times on average, however the bytes are split.
  if (read_ > 0 && read_ >= buffer_.size() - read_) {
    buffer_.erase(0, read_);
    read_ = 0;
  }
  buffer_.append(bytes);
}

std::size_t PacketReader::buffered() const { return buffer_.size() - read_; }

std::optional<Packet> PacketReader::fail(std::uint8_t reason_code, std::string what) {
  error_ = DecodeError{reason_code, std::move(what)};
  buffer_.clear();
  buffer_.shrink_to_fit();
  read_ = 0;
  skipping_ = 0;
  return std::nullopt;
}

void PacketReader::consume(std::size_t n) {
  read_ += n;
  if (read_ == buffer_.size()) {  // the common case of a read that ended on a packet boundary
    buffer_.clear();
    read_ = 0;
  }
}

std::optional<Packet> PacketReader::next() {
  if (error_ || skipping_ > 0) return std::nullopt;
  const std::string_view data = std::string_view(buffer_).substr(read_);
  if (data.empty()) return std::nullopt;
  const auto first = static_cast<std::uint8_t>(data[0]);
  if (auto problem = check_first_byte(first, version_)) return fail(problem->reason_code, std::move(problem->what));
  const char* name = to_string(static_cast<PacketType>(first >> 4));

  // The remaining length (2.1.4, 1.5.5): a Variable Byte Integer of at most four bytes.
  std::uint32_t remaining = 0;
  std::size_t header_size = 0;
  for (std::size_t i = 1;; ++i) {
    if (i > 4)
      return fail(reason::malformed_packet, std::string(name) + ": remaining length is longer than 4 bytes");
    if (i >= data.size()) return std::nullopt;  // more bytes needed
    const auto digit = static_cast<std::uint8_t>(data[i]);
    remaining |= static_cast<std::uint32_t>(digit & 0x7F) << (7 * (i - 1));
    if ((digit & 0x80) == 0) {
      header_size = i + 1;
      break;
    }
  }
  const std::size_t size = header_size + remaining;
  if (size > maximum_packet_size_) return oversized(first, header_size, remaining);
  if (data.size() < size) return std::nullopt;

  Cursor in(data.substr(header_size, remaining), name);
  auto packet = decode_body(Header{first}, version_, in);
  if (!packet) {
    auto& problem = *in.error();
    return fail(problem.reason_code, std::move(problem.what));
  }
  consume(size);
  return packet;
}

// A packet larger than our maximum is never held whole. A PUBLISH is read far enough to name it (topic
// and packet id) and the rest is dropped as it arrives, so the session can refuse and acknowledge it;
// anything else, or any PUBLISH when the peer promised our limit, is packet too large (0x95).
std::optional<Packet> PacketReader::oversized(std::uint8_t first, std::size_t header_size, std::uint32_t remaining) {
  const std::size_t size = header_size + remaining;
  const auto type = static_cast<PacketType>(first >> 4);
  const std::string limit = " is larger than the maximum packet size " + std::to_string(maximum_packet_size_);
  if (type != PacketType::publish || oversized_is_error_)
    return fail(reason::packet_too_large, std::string(to_string(type)) + " of " + std::to_string(size) + " bytes" + limit);

  const std::string_view data = std::string_view(buffer_).substr(read_);
  const std::string_view body = data.substr(header_size, remaining);  // as much of it as is here
  const auto qos = static_cast<std::uint8_t>((first >> 1) & 0x03);
  // Topic length first, then topic and packet id; until then, wait (bounded: 65,539 bytes at most).
  if (remaining < 2) return fail(reason::malformed_packet, "PUBLISH: topic name runs past the end of the packet");
  if (body.size() < 2) return std::nullopt;
  const std::size_t topic_length = static_cast<std::uint8_t>(body[0]) << 8 | static_cast<std::uint8_t>(body[1]);
  const std::size_t head = 2 + topic_length + (qos > 0 ? 2 : 0);
  if (head > remaining)
    return fail(reason::malformed_packet, "PUBLISH: topic name or packet identifier runs past the end of the packet");
  if (body.size() < head) return std::nullopt;

  Cursor in(body.substr(0, head), "PUBLISH");
  OversizedPublish result;
  result.qos = qos;
  result.size = size;
  if (!in.utf8(result.topic, "topic name") || !check_topic_name(in, result.topic, version_) ||
      (qos > 0 && !read_packet_id(in, result.packet_id))) {
    auto& problem = *in.error();
    return fail(problem.reason_code, std::move(problem.what));
  }
  const std::size_t here = std::min(data.size(), size);
  skipping_ = size - here;
  consume(here);
  return result;
}

}  // namespace routemq::mqtt
