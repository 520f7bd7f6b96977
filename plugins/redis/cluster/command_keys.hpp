#pragma once
// The keys a command names, read from its encoded bytes (what the RedisManager hands a connection),
// so that a cluster client sends it to the node serving their slot. Key positions come from a table
// of the commands whose keys are not simply their first argument (MSET, EVAL, BLPOP, ...); any other
// command with arguments is taken to name a key first, as nearly all do. Commands that name no key
// (PING, PUBLISH, SCRIPT LOAD, ...) may go to any node.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace routemq::redis {

// The keys among one command's arguments (`args[0]` is the command's name, any case).
std::vector<std::string_view> command_keys(const std::vector<std::string_view>& args);

struct RequestSlot {
  enum class Kind {
    any_node,    // no command in the request names a key
    one_slot,    // every key is in `slot`
    cross_slot,  // keys in several slots: no node can run it as one (the keys are in `keys`)
    unreadable,  // not a sequence of encoded commands
  };
  Kind kind = Kind::any_node;
  std::uint16_t slot = 0;
  std::vector<std::string> keys;
};

// Where a request, one command or several (a pipeline, MULTI ... EXEC) encoded as RESP arrays of
// bulk strings, must run.
RequestSlot slot_of_request(std::string_view bytes);

// The arguments of a request that holds exactly one command; nullopt for several, or unreadable bytes.
std::optional<std::vector<std::string_view>> only_command(std::string_view bytes);
// Each encoded command of a request, as its bytes; empty for unreadable bytes.
std::vector<std::string_view> each_command(std::string_view bytes);

}  // namespace routemq::redis
