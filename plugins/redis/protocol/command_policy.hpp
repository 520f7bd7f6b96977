#pragma once
// Which raw commands may run where. The manager's connections are shared by every caller and
// auto-pipelined: a command that changes the connection's state (SELECT, WATCH, AUTH ...) or holds it
// (BLPOP, WAIT ...) would corrupt or stall it for everyone. Those run on a leased connection of the
// caller's own (RedisManager::lease()). A few break the one-reply-per-request protocol itself
// (SUBSCRIBE, MONITOR, CLIENT REPLY, HELLO): they run nowhere; pub/sub has its own API.
#include <string>
#include <vector>

namespace routemq::redis {

enum class CommandPlace {
  shared,  // anywhere
  leased,  // only on a leased connection
  nowhere  // not through this client at all
};

struct CommandPolicy {
  CommandPlace place = CommandPlace::shared;
  std::string reason;  // why not shared: names the command and what to use instead
};

// By the command's name (any case) and, where it decides, its arguments (CLIENT's subcommand,
// XREAD's BLOCK).
CommandPolicy command_policy(const std::vector<std::string>& command);

}  // namespace routemq::redis
