// The example service's entry point: `build/bin/routemq run --config config/app.yaml`.
#include "core/app/cli.hpp"
#include "plugins/redis/redis_cli.hpp"
#include "middleware/register_all.hpp"
#include "routes/routes.hpp"

int main(int argc, char** argv) {
  auto plugins = [] { return std::vector<std::shared_ptr<routemq::Plugin>>{routemq::middleware::redis_plugin()}; };
  return routemq::run_cli(argc, argv,
                          {.name = "routemq",
                           .version = "0.1.0",
                           .plugins = plugins,
                           .routes = example::add_routes,
                           .extra_commands = routemq::redis::add_redis_commands});
}
