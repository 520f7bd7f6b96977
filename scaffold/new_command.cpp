#include "scaffold/new_command.hpp"

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "scaffold/new_project.hpp"

namespace routemq::scaffold {
namespace {

struct NewArguments {
  std::string name;
  std::string directory;  // default: ./NAME
  bool redis = false;
  bool docker = false;
};

void create(const NewArguments& arguments) {
  try {
    const auto name = parse_service_name(arguments.name);
    const std::filesystem::path directory = arguments.directory.empty() ? arguments.name : arguments.directory;
    write_project(directory, project_files({.name = name, .redis = arguments.redis, .docker = arguments.docker}));
    fmt::print("created {} in {}/\n"
               "  cd {}\n"
               "  cmake -B build && cmake --build build -j && ctest --test-dir build --output-on-failure\n"
               "  ./build/{} run\n"
               "(its README.md has the rest)\n",
               name.name, directory.string(), directory.string(), name.name);
  } catch (const std::exception& e) {
    fmt::print(stderr, "routemq new: {}\n", e.what());
    throw CLI::RuntimeError(2);
  }
}

}  // namespace

void add_new_command(CLI::App& cli) {
  auto arguments = std::make_shared<NewArguments>();
  auto* command = cli.add_subcommand("new", "Create a new service that builds on routemq (outside this repository)");
  command->add_option("name", arguments->name, "The service's name: lower-case letters, digits, '-' and '_'")->required();
  command->add_option("--dir", arguments->directory, "Where to create it (default: ./NAME); must not exist or be empty");
  command->add_flag("--redis", arguments->redis, "A route using Redis, Redis enabled in its config");
  command->add_flag("--docker", arguments->docker, "A Dockerfile and a docker-compose.yml");
  command->callback([arguments] { create(*arguments); });
}

}  // namespace routemq::scaffold
