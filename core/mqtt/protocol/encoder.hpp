#pragma once
// Packets to bytes (OASIS MQTT 3.1.1 and 5.0, chapter 3), for the connection's version. Appends, so a
// burst of packets becomes one buffer and one socket write.
//
//   std::string out;
//   encode(Publish{...}, Version::v5, out);
//   encode(PublishAck{PacketType::puback, 7}, Version::v5, out);
//   if (encoded_size(packet, version) > server_maximum_packet_size) refuse(packet);
//
// Only what a client sends is encodable in production (CONNECT, PUBLISH, the four publish acks,
// SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, AUTH); the server's packets (CONNACK, SUBACK, UNSUBACK,
// PINGRESP) are encodable too, for tests and the scripted broker. OversizedPublish is not a packet:
// encoding it is a logic error (throws std::logic_error).
#include <cstddef>
#include <string>

#include "core/mqtt/protocol/packet.hpp"

namespace routemq::mqtt {

void encode(const Packet& packet, Version version, std::string& out);
// The whole packet's length in bytes, fixed header included, without encoding it.
std::size_t encoded_size(const Packet& packet, Version version);

// Variable Byte Integer (1.5.5): 1 to 4 bytes, values up to 268,435,455.
inline constexpr std::uint32_t max_variable_byte_integer = 268'435'455;
void append_variable_byte_integer(std::uint32_t value, std::string& out);

}  // namespace routemq::mqtt
