// libFuzzer target for what dedupe's replay reads back from Redis, where anything with access to the
// keys could have written anything (scripts/fuzz.sh replay builds and runs it). The first byte picks
// the decoder; the rest is its input. Each must return a value or nothing, never crash, and what it
// accepts must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/handling/answers.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/protocol/kept_replies.hpp"

namespace {

void check(bool holds) {
  if (!holds) std::abort();
}

void answers(std::string_view bytes) {
  const auto decoded = routemq::decode_answers(bytes);
  if (decoded) check(routemq::encode_answers(*decoded) == bytes);
}

void kept_replies(std::string_view bytes) {
  const auto decoded = routemq::redis::decode_kept_replies(bytes);
  if (decoded) check(decoded->size() <= bytes.size());
}

void commands(std::string_view bytes) {
  const auto decoded = routemq::redis::decode_commands(bytes);
  if (!decoded) return;
  std::string again;
  for (const auto& command : *decoded) routemq::redis::append_command(again, command);
  // Our encoder writes the canonical form; a decoded input written another way (leading zeros in a
  // length) may differ, but must decode to the same commands.
  check(routemq::redis::decode_commands(again) == decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: answers(input); break;
    case 1: kept_replies(input); break;
    default: commands(input); break;
  }
  return 0;
}
