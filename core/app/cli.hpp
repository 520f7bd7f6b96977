#pragma once
// The command line every routemq service gets:
//   routemq run [--config FILE]           serve until SIGINT/SIGTERM
//   routemq routes [--config FILE]        the route table: name, pattern, subscription, QoS, shared, middleware
//   routemq check-config [--config FILE]  validate, print the effective config (secrets redacted)
//   routemq --help | --version
//
//   int main(int argc, char** argv) {
//     return routemq::run_cli(argc, argv, {.name = "my-service", .version = "1.0", .routes = add_routes});
//   }
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/app/app.hpp"

namespace CLI {
class App;
}

namespace routemq {

// What a service's own subcommands get from run_cli.
struct CommandHooks {
  std::function<App&()> load_app;                     // loads .env and the config once, builds the app
  std::function<CLI::App*(CLI::App*)> with_config;    // adds -c/--config to a (sub)command
};

struct ServiceDefinition {
  std::string name = "routemq";
  std::string version = "0.1.0";
  // The plugins compiled into the service, by name (each reads its own YAML section).
  std::function<std::vector<std::shared_ptr<Plugin>>()> plugins{};
  // Declares the service's routes on the app.
  std::function<void(App&)> routes{};
  // Adds service-specific subcommands (e.g. `cache ping`); called before parsing. A command's callback
  // throws CLI::RuntimeError(code) to end with that exit code (after printing why on stderr).
  std::function<void(CLI::App&, const CommandHooks&)> extra_commands{};
};

// Loads .env, then the config (env over YAML over defaults), then runs the chosen command.
// Exit codes: 0 success, 1 runtime failure, 2 invalid configuration or usage.
int run_cli(int argc, char** argv, const ServiceDefinition& service);

}  // namespace routemq
