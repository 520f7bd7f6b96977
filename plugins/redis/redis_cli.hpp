#pragma once
// `routemq redis ...`: operators' commands, using the service's own config (YAML, .env, REDIS_*):
//
//   routemq redis ping                  connect, PING, print the round trip; exit 1 when unreachable
//   routemq redis stats                 client state and the server: memory, key count, key types
//   routemq redis keys PATTERN [-n N]   keys under the prefix matching a glob (SCAN, never KEYS)
//
//   run_cli(argc, argv, {..., .extra_commands = routemq::redis::add_redis_commands});
#include "core/app/cli.hpp"

namespace routemq::redis {

void add_redis_commands(CLI::App& cli, const CommandHooks& hooks);

}  // namespace routemq::redis
