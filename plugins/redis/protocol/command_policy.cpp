#include "plugins/redis/protocol/command_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

namespace routemq::redis {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

template <std::size_t N>
bool one_of(const std::string& verb, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), verb) != names.end();
}

// Replies the client never asked for (pushes), or none at all: the reply queue would pair every later
// reply with the wrong caller.
constexpr std::array<std::string_view, 9> protocol_breaking{
    "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR", "SYNC", "PSYNC"};
// The connection's state: every caller sharing it would inherit it.
constexpr std::array<std::string_view, 9> connection_state{"SELECT", "WATCH",  "UNWATCH", "MULTI", "EXEC",
                                                           "DISCARD", "AUTH", "RESET",   "QUIT"};
// Holds the connection until something happens elsewhere: everyone queued behind it waits.
constexpr std::array<std::string_view, 10> blocking{"BLPOP",    "BRPOP",    "BRPOPLPUSH", "BLMOVE", "BLMPOP",
                                                    "BZPOPMIN", "BZPOPMAX", "BZMPOP",     "WAIT",   "WAITAOF"};
constexpr std::array<std::string_view, 7> client_state{"SETNAME", "SETINFO", "TRACKING", "CACHING",
                                                       "NO-EVICT", "NO-TOUCH", "UNPAUSE"};

bool has_block_option(const std::vector<std::string>& command) {
  return std::any_of(command.begin() + 1, command.end(), [](const std::string& arg) { return upper(arg) == "BLOCK"; });
}

}  // namespace

CommandPolicy command_policy(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  const auto verb = upper(command.front());
  const auto sub = command.size() > 1 ? upper(command[1]) : std::string();
  if (one_of(verb, protocol_breaking))
    return {CommandPlace::nowhere,
            fmt::format("{} makes the server send replies nobody asked for; use subscribe()/psubscribe() for pub/sub", verb)};
  if (verb == "HELLO")
    return {CommandPlace::nowhere, "HELLO would change the protocol the connection speaks (RESP2 here)"};
  if (verb == "CLIENT" && sub == "REPLY")
    return {CommandPlace::nowhere, "CLIENT REPLY would leave requests without the replies they wait for"};
  if (one_of(verb, connection_state) || (verb == "CLIENT" && one_of(sub, client_state)))
    return {CommandPlace::leased,
            fmt::format("{} changes the state of a connection every caller shares; run it on redis.lease() "
                        "(transactions with WATCH too), or use transaction() for MULTI/EXEC",
                        verb == "CLIENT" ? "CLIENT " + sub : verb)};
  if (one_of(verb, blocking) || ((verb == "XREAD" || verb == "XREADGROUP") && has_block_option(command)))
    return {CommandPlace::leased,
            fmt::format("{} blocks a connection every caller shares; run it on redis.lease() (or use blpop())", verb)};
  return {};
}

}  // namespace routemq::redis
