#include "core/mqtt/protocol/reason_code.hpp"

#include <array>
#include <cstdio>

namespace routemq::mqtt {

namespace {

// Codes this table does not know get a generated name, made once for all 256 values so that the
// returned pointer stays valid for ever and no caller owns a buffer.
const char* unknown_reason_name(std::uint8_t code) {
  static const auto names = [] {
    std::array<std::array<char, 24>, 256> table{};
    for (std::size_t i = 0; i < table.size(); ++i)
      std::snprintf(table[i].data(), table[i].size(), "reason code 0x%02X", static_cast<unsigned>(i));
    return table;
  }();
  return names[code].data();
}

}  // namespace

// OASIS MQTT 5.0, 2.4, Table 2-6. Codes with several meanings (0x00) are named by all of them.
const char* reason_name(std::uint8_t code) {
  switch (code) {
    case 0x00: return "success (0x00)";
    case 0x01: return "granted QoS 1 (0x01)";
    case 0x02: return "granted QoS 2 (0x02)";
    case 0x04: return "disconnect with will message (0x04)";
    case 0x10: return "no matching subscribers (0x10)";
    case 0x11: return "no subscription existed (0x11)";
    case 0x18: return "continue authentication (0x18)";
    case 0x19: return "re-authenticate (0x19)";
    case 0x80: return "unspecified error (0x80)";
    case 0x81: return "malformed packet (0x81)";
    case 0x82: return "protocol error (0x82)";
    case 0x83: return "implementation specific error (0x83)";
    case 0x84: return "unsupported protocol version (0x84)";
    case 0x85: return "client identifier not valid (0x85)";
    case 0x86: return "bad user name or password (0x86)";
    case 0x87: return "not authorized (0x87)";
    case 0x88: return "server unavailable (0x88)";
    case 0x89: return "server busy (0x89)";
    case 0x8A: return "banned (0x8A)";
    case 0x8B: return "server shutting down (0x8B)";
    case 0x8C: return "bad authentication method (0x8C)";
    case 0x8D: return "keep alive timeout (0x8D)";
    case 0x8E: return "session taken over (0x8E)";
    case 0x8F: return "topic filter invalid (0x8F)";
    case 0x90: return "topic name invalid (0x90)";
    case 0x91: return "packet identifier in use (0x91)";
    case 0x92: return "packet identifier not found (0x92)";
    case 0x93: return "receive maximum exceeded (0x93)";
    case 0x94: return "topic alias invalid (0x94)";
    case 0x95: return "packet too large (0x95)";
    case 0x96: return "message rate too high (0x96)";
    case 0x97: return "quota exceeded (0x97)";
    case 0x98: return "administrative action (0x98)";
    case 0x99: return "payload format invalid (0x99)";
    case 0x9A: return "retain not supported (0x9A)";
    case 0x9B: return "QoS not supported (0x9B)";
    case 0x9C: return "use another server (0x9C)";
    case 0x9D: return "server moved (0x9D)";
    case 0x9E: return "shared subscriptions not supported (0x9E)";
    case 0x9F: return "connection rate exceeded (0x9F)";
    case 0xA0: return "maximum connect time (0xA0)";
    case 0xA1: return "subscription identifiers not supported (0xA1)";
    case 0xA2: return "wildcard subscriptions not supported (0xA2)";
    default: return unknown_reason_name(code);
  }
}

// OASIS MQTT 3.1.1, 3.2.2.3, Table 3.1; 6 to 255 are reserved.
const char* connack_return_name_311(std::uint8_t code) {
  switch (code) {
    case 0: return "connection accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return "reserved return code";
  }
}

}  // namespace routemq::mqtt
