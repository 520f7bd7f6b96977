// Which raw commands may run on the shared connections, which only on a leased one, which nowhere.
#include <catch2/catch.hpp>

#include "plugins/redis/protocol/command_policy.hpp"

using namespace routemq::redis;

namespace {
CommandPlace place(std::vector<std::string> command) { return command_policy(command).place; }
}  // namespace

TEST_CASE("command policy: ordinary commands run on the shared connections, whatever their case") {
  for (const auto& command : std::vector<std::vector<std::string>>{
           {"GET", "k"}, {"set", "k", "v"}, {"EVALSHA", "abc", "0"}, {"XREAD", "STREAMS", "s", "0"},
           {"CLIENT", "LIST"}, {"CLIENT", "KILL", "ID", "7"}, {"PUBLISH", "c", "m"}, {"LPOP", "block"}, {}})
    CHECK(place(command) == CommandPlace::shared);
}

TEST_CASE("command policy: connection state and blocking commands only on a lease, saying why") {
  for (const auto& command : std::vector<std::vector<std::string>>{
           {"SELECT", "1"}, {"watch", "k"}, {"UNWATCH"}, {"MULTI"}, {"EXEC"}, {"DISCARD"}, {"AUTH", "pw"},
           {"RESET"}, {"QUIT"}, {"CLIENT", "setname", "x"}, {"CLIENT", "TRACKING", "on"}, {"BLPOP", "k", "0"},
           {"brpop", "k", "1"}, {"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}, {"BZPOPMIN", "z", "0"}, {"WAIT", "1", "0"},
           {"XREAD", "block", "0", "STREAMS", "s", "$"}, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">"}}) {
    INFO(command.front());
    const auto policy = command_policy(command);
    CHECK(policy.place == CommandPlace::leased);
    CHECK(policy.reason.find("lease()") != std::string::npos);
  }
  CHECK(command_policy({"blpop", "k", "0"}).reason.starts_with("BLPOP blocks a connection every caller shares"));
}

TEST_CASE("command policy: commands that leave the one-reply-per-request protocol run nowhere") {
  for (const auto& command : std::vector<std::vector<std::string>>{
           {"SUBSCRIBE", "c"}, {"psubscribe", "c*"}, {"SSUBSCRIBE", "c"}, {"UNSUBSCRIBE"}, {"MONITOR"},
           {"CLIENT", "REPLY", "OFF"}, {"HELLO", "3"}, {"SYNC"}, {"PSYNC", "?", "-1"}})
    CHECK(place(command) == CommandPlace::nowhere);
  CHECK(command_policy({"SUBSCRIBE", "c"}).reason.find("subscribe()") != std::string::npos);
}
