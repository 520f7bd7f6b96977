// docker-compose.yml sets no dead settings: every variable the app service gets is one the service
// reads (the framework's or the Redis plugin's), and the ones the compose set-up relies on are there.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "core/config/app_config.hpp"
#include "plugins/redis/redis_config.hpp"
#include "tests/support/paths.hpp"

using namespace routemq;

namespace {

std::set<std::string> variables_the_service_reads() {
  std::set<std::string> names(framework_env_vars().begin(), framework_env_vars().end());
  names.insert(redis::redis_env_vars().begin(), redis::redis_env_vars().end());
  return names;
}

std::set<std::string> app_service_environment(const std::string& file = "docker-compose.yml") {
  const auto compose = YAML::LoadFile(test::source_path(file));
  std::set<std::string> names;
  for (const auto& entry : compose["services"]["app"]["environment"]) names.insert(entry.first.as<std::string>());
  return names;
}


// Every variable `file` gives the app is one the app reads, and `needed` are among them.
void check_app_environment(const std::string& file, std::initializer_list<const char*> needed) {
  const auto known = variables_the_service_reads();
  const auto set_by_file = app_service_environment(file);
  REQUIRE_FALSE(set_by_file.empty());
  for (const auto& name : set_by_file) {
    INFO(file << " sets " << name << " for the app, which nothing reads");
    CHECK(known.count(name) == 1);
  }
  for (const auto* name : needed) {
    INFO(file << " must set " << name);
    CHECK(set_by_file.count(name) == 1);
  }
}

}  // namespace

TEST_CASE("every variable docker-compose.yml gives the app is one the app reads") {
  check_app_environment("docker-compose.yml", {"MQTT_BROKER", "ENABLE_REDIS", "REDIS_HOST", "REDIS_PASSWORD", "METRICS_HOST"});
}

TEST_CASE("the TLS and Sentinel topologies give the app only variables it reads, theirs among them") {
  check_app_environment("docker-compose.tls.yml", {"REDIS_TLS", "REDIS_TLS_CA_FILE", "REDIS_PORT"});
  check_app_environment("docker-compose.sentinel.yml", {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"});
}

namespace {

// Every NAME= in config/.env.example, set or commented out ("# NAME=..."): what a newcomer copies.
std::set<std::string> env_example_names() {
  std::ifstream file(test::source_path("config/.env.example"));
  const std::regex assignment(R"(^#?\s*([A-Z][A-Z0-9_]*)=)");
  std::set<std::string> names;
  std::smatch match;
  for (std::string line; std::getline(file, line);)
    if (std::regex_search(line, match, assignment)) names.insert(match[1]);
  return names;
}

}  // namespace

TEST_CASE("config/.env.example names only variables the service reads, Redis's among them") {
  const auto known = variables_the_service_reads();
  const auto names = env_example_names();
  for (const auto* needed : {"MQTT_BROKER", "ENABLE_REDIS", "REDIS_HOST", "REDIS_PASSWORD", "REDIS_URL"}) {
    INFO("config/.env.example must name " << needed);
    CHECK(names.count(needed) == 1);
  }
  for (const auto& name : names) {
    INFO("config/.env.example names " << name << ", which nothing reads");
    CHECK(known.count(name) == 1);
  }
}

TEST_CASE("the list of variables the app reads is the one its config loading uses") {
  const auto known = variables_the_service_reads();
  // A few the docs promise; a name dropped from the lists (or misspelled there) fails here.
  for (const auto* name : {"APP_WORKERS", "LOG_LEVEL", "LOG_FORMAT", "MQTT_PORT", "METRICS_PORT", "REDIS_URL",
                           "REDIS_SOCKET_TIMEOUT", "REDIS_KEY_PREFIX"})
    CHECK(known.count(name) == 1);
  CHECK(known.count("REDIS_HOSTNAME") == 0);
}
