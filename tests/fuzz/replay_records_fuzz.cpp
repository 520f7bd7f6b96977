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
  const auto split = routemq::redis::split_commands(bytes);
  if (!split) return;
  // Each command written again with its count: it splits into the same words. (An input that wrote
  // a count another way, with leading zeros, differs in bytes but not in words.)
  std::string again;
  for (const auto& command : *split) again += "*" + std::to_string(command.words) + "\r\n" + std::string(command.encoded);
  const auto resplit = routemq::redis::split_commands(again);
  check(resplit && resplit->size() == split->size());
  for (std::size_t i = 0; i < split->size(); ++i)
    check((*resplit)[i].words == (*split)[i].words && (*resplit)[i].encoded == (*split)[i].encoded);
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
