// __NAME__: `./build/__NAME__ run` serves config/app.yaml's broker; `--help` lists the other commands.
#include "routes.hpp"

int main(int argc, char** argv) {
  return routemq::run_cli(argc, argv,
                          {.name = "__NAME__",
                           .version = "0.1.0",
                           // The Redis plugin and its middleware (rate_limit, dedupe, lock, session), which
                           // config/app.yaml enables; without Redis they fall back to in-process limits.
                           .plugins = [] { return std::vector<std::shared_ptr<routemq::Plugin>>{
                                               routemq::middleware::redis_plugin()}; },
                           .routes = __IDENT__::add_routes,
                           .extra_commands = routemq::redis::add_redis_commands});
}
