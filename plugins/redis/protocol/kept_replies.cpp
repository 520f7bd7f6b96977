#include "plugins/redis/protocol/kept_replies.hpp"

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace routemq::redis {
namespace {

// MessagePack as Redis's Lua library cmsgpack writes a script's replies (msgpack's spec: formats by
// their first byte, lengths and numbers big-endian). What EVAL would have returned, the same way:
// an integer (a Lua number; one that is not whole was written as a float and is truncated, as Redis
// truncates it), a bulk string (str or bin), false for a nil bulk, true as the integer 1, an array,
// and a table with `err` or `ok` (a map: Redis 7 adds `ignore_error_stats_update`) for an error or a
// status. Anything else (nil, ext, a map without either) is not a reply.
class PackedReader {
 public:
  explicit PackedReader(std::string_view packed) : packed_(packed) {}

  std::optional<Reply> reply(int depth) {
    if (depth > 32) return std::nullopt;
    const auto tag = byte();
    if (!tag) return std::nullopt;
    if (*tag <= 0x7f) return Reply::number(*tag);                           // positive fixint
    if (*tag >= 0xe0) return Reply::number(static_cast<std::int8_t>(*tag));  // negative fixint
    if ((*tag & 0xf0) == 0x80) return map(*tag & 0x0f, depth);
    if ((*tag & 0xf0) == 0x90) return array(*tag & 0x0f, depth);
    if ((*tag & 0xe0) == 0xa0) return text(*tag & 0x1f);
    switch (*tag) {
      case 0xc2: return Reply::nil();
      case 0xc3: return Reply::number(1);
      case 0xc4: case 0xd9: return sized<std::uint8_t>([&](std::size_t n) { return text(n); });
      case 0xc5: case 0xda: return sized<std::uint16_t>([&](std::size_t n) { return text(n); });
      case 0xc6: case 0xdb: return sized<std::uint32_t>([&](std::size_t n) { return text(n); });
      case 0xca: return truncated(number<float>());
      case 0xcb: return truncated(number<double>());
      case 0xcc: return whole(number<std::uint8_t>());
      case 0xcd: return whole(number<std::uint16_t>());
      case 0xce: return whole(number<std::uint32_t>());
      case 0xcf: return whole(number<std::uint64_t>());
      case 0xd0: return whole(number<std::int8_t>());
      case 0xd1: return whole(number<std::int16_t>());
      case 0xd2: return whole(number<std::int32_t>());
      case 0xd3: return whole(number<std::int64_t>());
      case 0xdc: return sized<std::uint16_t>([&](std::size_t n) { return array(n, depth); });
      case 0xdd: return sized<std::uint32_t>([&](std::size_t n) { return array(n, depth); });
      case 0xde: return sized<std::uint16_t>([&](std::size_t n) { return map(n, depth); });
      case 0xdf: return sized<std::uint32_t>([&](std::size_t n) { return map(n, depth); });
      default: return std::nullopt;
    }
  }

  bool at_end() const { return at_ == packed_.size(); }

 private:
  std::optional<std::uint8_t> byte() {
    if (at_ >= packed_.size()) return std::nullopt;
    return static_cast<std::uint8_t>(packed_[at_++]);
  }

  // A big-endian value of T's size, its bits as T.
  template <class T>
  std::optional<T> number() {
    if (packed_.size() - at_ < sizeof(T)) return std::nullopt;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) bits = bits << 8 | static_cast<std::uint8_t>(packed_[at_++]);
    if constexpr (std::is_floating_point_v<T>) {
      using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
      return std::bit_cast<T>(static_cast<Bits>(bits));
    } else {
      return static_cast<T>(bits);
    }
  }

  template <class T>
  static std::optional<Reply> whole(std::optional<T> value) {
    if (!value) return std::nullopt;
    if constexpr (std::is_same_v<T, std::uint64_t>)
      if (*value > static_cast<std::uint64_t>(std::numeric_limits<long long>::max())) return std::nullopt;
    return Reply::number(static_cast<long long>(*value));
  }

  template <class T>
  static std::optional<Reply> truncated(std::optional<T> value) {
    // Within long long's range (NaN fails both), as a Lua number converted to a reply.
    if (!value || !(*value > -9.2e18 && *value < 9.2e18)) return std::nullopt;
    return Reply::number(static_cast<long long>(*value));
  }

  // A length of type Length, then what `read` makes of it.
  template <class Length, class Read>
  std::optional<Reply> sized(Read read) {
    auto length = number<Length>();
    if (!length) return std::nullopt;
    return read(*length);
  }

  std::optional<Reply> text(std::size_t length) {
    if (length > packed_.size() - at_) return std::nullopt;
    std::string bytes(packed_.substr(at_, length));
    at_ += length;
    return Reply::string(std::move(bytes));
  }

  std::optional<Reply> array(std::size_t count, int depth) {
    if (count > packed_.size() - at_) return std::nullopt;  // each element takes a byte at least
    std::vector<Reply> elements;
    elements.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto element = reply(depth + 1);
      if (!element) return std::nullopt;
      elements.push_back(std::move(*element));
    }
    return Reply::array(std::move(elements));
  }

  // A table that is not an array: its `err`, else its `ok`, as Redis converts it.
  std::optional<Reply> map(std::size_t pairs, int depth) {
    if (pairs > (packed_.size() - at_) / 2) return std::nullopt;
    std::optional<std::string> err, ok;
    for (std::size_t i = 0; i < pairs; ++i) {
      auto key = reply(depth + 1);
      auto value = key ? reply(depth + 1) : std::nullopt;
      if (!value || key->type != Reply::Type::string) return std::nullopt;
      if (key->text == "err" && value->type == Reply::Type::string) err = std::move(value->text);
      if (key->text == "ok" && value->type == Reply::Type::string) ok = std::move(value->text);
    }
    if (err) return Reply::error(std::move(*err));
    if (ok) return Reply::status(std::move(*ok));
    return std::nullopt;
  }

  std::string_view packed_;
  std::size_t at_ = 0;
};

}  // namespace

// "<digits>\r\n" at `at`, advancing it past; nullopt for anything else (a sign, no digits, too long).
std::optional<std::size_t> length_line(std::string_view bytes, std::size_t& at) {
  const auto end = bytes.find("\r\n", at);
  if (end == std::string_view::npos || end == at || end - at > 18) return std::nullopt;
  std::size_t value = 0;
  for (auto i = at; i < end; ++i) {
    if (bytes[i] < '0' || bytes[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(bytes[i] - '0');
  }
  at = end + 2;
  return value;
}

std::optional<std::vector<EncodedCommand>> split_commands(std::string_view bytes) {
  std::vector<EncodedCommand> commands;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes[at++] != '*') return std::nullopt;
    const auto words = length_line(bytes, at);
    if (!words || *words == 0 || *words > bytes.size() - at) return std::nullopt;  // a name; a word takes bytes
    const auto first = at;
    for (std::size_t i = 0; i < *words; ++i) {
      if (at >= bytes.size() || bytes[at++] != '$') return std::nullopt;
      const auto length = length_line(bytes, at);
      if (!length || *length > bytes.size() - at || bytes.size() - at - *length < 2) return std::nullopt;
      at += *length;
      if (bytes.substr(at, 2) != "\r\n") return std::nullopt;
      at += 2;
    }
    commands.push_back({*words, bytes.substr(first, at - first)});
  }
  return commands;
}

std::optional<std::vector<Reply>> decode_kept_replies(std::string_view kept) {
  PackedReader reader(kept);
  auto replies = reader.reply(0);
  if (!replies || !replies->is_array() || !reader.at_end()) return std::nullopt;
  return std::move(replies->elements);
}

}  // namespace routemq::redis
