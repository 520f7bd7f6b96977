#include "core/app/cli.hpp"

#include <cstdio>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/app/logging.hpp"
#include "core/config/config_error.hpp"
#include "core/config/dotenv.hpp"
#include "core/routing/topic_pattern.hpp"

namespace routemq {
namespace {

std::unique_ptr<App> load_app(const std::string& config_file, const ServiceDefinition& service) {
  load_dotenv(".env");  // before anything reads the environment
  const auto environment = Environment::from_process();
  auto plugins = service.plugins ? service.plugins() : std::vector<std::shared_ptr<Plugin>>{};
  std::set<std::string> plugin_sections;
  for (const auto& plugin : plugins) plugin_sections.insert(plugin->name());
  auto config = load_app_config(config_file, environment, plugin_sections);
  configure_logging(config.app.log_level, config.app.log_format);
  auto app = std::make_unique<App>(std::move(config), environment, std::move(plugins));
  if (service.routes) service.routes(*app);
  return app;
}

void print_routes(const std::vector<RouteInfo>& routes) {
  std::vector<std::array<std::string, 7>> rows{
      {"NAME", "PATTERN", "SUBSCRIPTION", "QOS", "SHARED", "ORDERED BY", "MIDDLEWARE"}};
  for (const auto& route : routes)
    rows.push_back({route.name, route.pattern, route.subscription, std::to_string(route.qos),
                    route.shared ? "yes" : "no", route.ordered_by.empty() ? "-" : route.ordered_by,
                    route.middleware.empty() ? "-" : fmt::format("{}", fmt::join(route.middleware, " -> "))});
  std::array<std::size_t, 7> widths{};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
    fmt::print("{}\n", line);
  }
}

}  // namespace

int run_cli(int argc, char** argv, const ServiceDefinition& service) {
  CLI::App cli{fmt::format("{}: an MQTT message-routing service", service.name)};
  cli.set_version_flag("--version", fmt::format("{} {}", service.name, service.version));
  cli.require_subcommand(1);
  std::string config_file = "config/app.yaml";
  auto with_config = [&](CLI::App* command) {
    command->add_option("-c,--config", config_file, "YAML config file")->capture_default_str();
    return command;
  };
  auto* run = with_config(cli.add_subcommand("run", "Serve messages until SIGINT/SIGTERM"));
  auto* routes = with_config(cli.add_subcommand("routes", "Print the route table"));
  auto* check = with_config(cli.add_subcommand("check-config", "Validate the config and print it (secrets redacted)"));

  std::unique_ptr<App> app;
  auto app_loader = [&]() -> App& {
    if (!app) app = load_app(config_file, service);
    return *app;
  };
  if (service.extra_commands) service.extra_commands(cli, CommandHooks{app_loader, with_config});

  try {
    try {
      cli.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
      return e.get_exit_code();  // a command that failed and said why
    } catch (const CLI::ParseError& e) {
      return cli.exit(e) == 0 ? 0 : 2;
    }
    if (*run) return app_loader().run();
    if (*routes) {
      app_loader().build();
      print_routes(app->routes());
    }
    if (*check) {
      app_loader().build();
      fmt::print("# effective configuration ({}); secrets redacted\n{}", config_file,
                 app->config().effective.to_yaml_like_text());
      fmt::print("# configuration is valid: {} route(s)\n", app->routes().size());
    }
    return 0;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return 2;
  } catch (const PatternError& e) {
    fmt::print(stderr, "route error: {}\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}

}  // namespace routemq
