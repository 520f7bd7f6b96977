// The routemq tool: the example service (`build/bin/routemq run --config config/app.yaml`), its Redis
// commands, and `routemq new NAME`, which starts a service of your own.
#include "core/app/cli.hpp"
#include "plugins/redis/redis_cli.hpp"
#include "middleware/register_all.hpp"
#include "routes/routes.hpp"
#include "scaffold/new_command.hpp"

int main(int argc, char** argv) {
  auto plugins = [] { return std::vector<std::shared_ptr<routemq::Plugin>>{routemq::middleware::redis_plugin()}; };
  return routemq::run_cli(argc, argv,
                          {.name = "routemq",
                           .version = ROUTEMQ_VERSION,
                           .plugins = plugins,
                           .routes = example::add_routes,
                           .extra_commands = [](CLI::App& cli, const routemq::CommandHooks& hooks) {
                             routemq::redis::add_redis_commands(cli, hooks);
                             routemq::scaffold::add_new_command(cli);  // `routemq new NAME`: a service of your own
                           }});
}
