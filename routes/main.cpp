// The example service's entry point: `build/bin/routemq run --config config/app.yaml`.
#include "core/app/cli.hpp"
#include "routes/routes.hpp"

int main(int argc, char** argv) {
  return routemq::run_cli(argc, argv, {.name = "routemq", .version = "0.1.0", .routes = example::add_routes});
}
