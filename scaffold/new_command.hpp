#pragma once
// `routemq new NAME [--redis] [--docker] [--dir PATH]` on a service's command line (the routemq
// tool has it: routes/main.cpp).
namespace CLI {
class App;
}

namespace routemq::scaffold {

void add_new_command(CLI::App& cli);

}  // namespace routemq::scaffold
