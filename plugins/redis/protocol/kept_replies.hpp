#pragma once
// A pipeline run as one server-side script can keep its replies in Redis, in the same atomic step as
// its writes (Pipeline::keep_replies_in), so that work already done can be answered again without
// being done again (dedupe's replay after a crash, Pipeline::answer_from). Two readings, sans-IO:
//
// - the commands of an encoded request (our encoder's RESP arrays of bulk strings), split for the
//   script's arguments without reading their words into strings;
// - the replies the script kept: an array of them packed by Redis's own Lua MessagePack library
//   (cmsgpack, written in C: a third of the cost of packing them in Lua), read the way Redis
//   converts a script's values to replies.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

// One command of an encoded request: how many words it has, and those words as encoded (RESP bulk
// strings), a view into the request.
struct EncodedCommand {
  std::size_t words = 0;
  std::string_view encoded;
  bool operator==(const EncodedCommand&) const = default;
};

// nullopt when `bytes` is not a sequence of RESP arrays of bulk strings, each with a name.
std::optional<std::vector<EncodedCommand>> split_commands(std::string_view bytes);

// nullopt when `kept` is not an array of replies packed as cmsgpack packs them (or nests deeper than
// 32; cmsgpack itself writes a table nested deeper than 16 as nil, which is refused).
std::optional<std::vector<Reply>> decode_kept_replies(std::string_view kept);

}  // namespace routemq::redis
