#pragma once
// Bytes from the broker to packets (OASIS MQTT 3.1.1 and 5.0). Feed whatever arrived, in any split;
// take complete packets out. An error is a value naming what was wrong and the reason code to
// DISCONNECT with (MQTT 5, 4.13); it is sticky: the connection must be closed.
//
//   PacketReader reader(Version::v5, 1 << 20);
//   reader.feed(bytes);
//   while (auto packet = reader.next()) session.receive(std::move(*packet));
//   if (reader.failed()) close_with(reader.error().reason_code, reader.error().what);
//
// Checked here, each where the standard says so: the fixed header's flags per type; the Variable Byte
// Integer's at most four bytes; UTF-8 strings well formed, without U+0000 and without surrogates
// (1.5.4); each property allowed in its packet, and at most once except user properties and
// subscription identifiers (2.2.2.2); packet identifiers non-zero (2.2.1); a remaining length that
// agrees with its content. A packet larger than `maximum_packet_size` is never buffered whole: a
// PUBLISH of that size is read past and reported as OversizedPublish (with 3.1.1 the broker cannot
// know our limit, so the session refuses and acknowledges it); with MQTT 5 the broker promised not to
// send it, so the reader reports packet_too_large (0x95) when told `oversized_is_error`.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/mqtt/protocol/packet.hpp"

namespace routemq::mqtt {

struct DecodeError {
  std::uint8_t reason_code = 0;  // malformed_packet, protocol_error, packet_too_large, ...
  std::string what;              // "PUBLISH: topic is not valid UTF-8 (byte 0xC3 at offset 5)"
};

class PacketReader {
 public:
  PacketReader(Version version, std::size_t maximum_packet_size, bool oversized_is_error = false);

  void feed(std::string_view bytes);
  // The next complete packet, or nullopt when more bytes are needed (or after an error).
  std::optional<Packet> next();
  bool failed() const { return error_.has_value(); }
  const DecodeError& error() const { return *error_; }
  // Bytes fed but not yet taken out as packets (what a pause in reading keeps in memory).
  std::size_t buffered() const;

 private:
  std::optional<Packet> fail(std::uint8_t reason_code, std::string what);
  std::optional<Packet> oversized(std::uint8_t first, std::size_t header_size, std::uint32_t remaining);
  void consume(std::size_t n);

  Version version_;
  std::size_t maximum_packet_size_;
  bool oversized_is_error_;
  std::string buffer_;
  std::size_t read_ = 0;             // buffer_[0, read_) is consumed
  std::size_t skipping_ = 0;         // bytes of an oversized packet still to read past
  std::optional<DecodeError> error_;
};

}  // namespace routemq::mqtt
