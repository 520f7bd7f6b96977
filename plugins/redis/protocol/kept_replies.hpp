#pragma once
// A pipeline run as one server-side script can keep its replies in Redis, in the same atomic step as
// its writes (Pipeline::keep_replies_in), so that work already done can be answered again without
// being done again (dedupe's replay after a crash, Pipeline::answer_from). Two readings, sans-IO:
//
// - the commands of an encoded request (our encoder's RESP arrays of bulk strings), for the script's
//   arguments;
// - the replies the script kept, in its compact form: i<integer>;  s<length>;<bytes>  n (nil)
//   e<length>;<error text>  o<length>;<status text>  a<count>;<elements>.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

// nullopt when `bytes` is not a sequence of RESP arrays of bulk strings.
std::optional<std::vector<std::vector<std::string>>> decode_commands(std::string_view bytes);

// nullopt when `kept` is not a list of replies in the script's form (or nests deeper than 32).
std::optional<std::vector<Reply>> decode_kept_replies(std::string_view kept);

}  // namespace routemq::redis
