#pragma once
// A multi-key command whose keys live in several slots, cut into one command per slot and put back
// together in the caller's order, without any I/O:
//
//   MGET a b c            -> MGET a c (slot 1), MGET b (slot 2)  -> values in the order a, b, c
//   DEL / UNLINK / EXISTS / TOUCH a b c                          -> the parts' counts added
//   MSET a 1 b 2          -> MSET a 1, MSET b 2                  -> OK when every part said OK
//
// The parts run independently: MSET over several slots is not atomic (one slot may be written and
// another not, if a node fails between them). Other commands over several slots are not split.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

struct SlotSplit {
  enum class Merge { values_in_order, sum, all_ok };
  struct Part {
    std::uint16_t slot = 0;
    std::vector<std::string> args;       // the command for this slot
    std::vector<std::size_t> positions;  // where each of its keys was in the caller's command
  };
  Merge merge = Merge::values_in_order;
  std::size_t keys = 0;
  std::vector<Part> parts;  // in the order of their first key
};

// The parts of `args` (args[0] the command's name), or nullopt for a command that is not split.
std::optional<SlotSplit> split_by_slot(const std::vector<std::string_view>& args);

// One reply from the parts' replies (in the order of `split.parts`): the first error reply among
// them, if any, as it is.
Reply merge_parts(const SlotSplit& split, const std::vector<Reply>& replies);

}  // namespace routemq::redis
