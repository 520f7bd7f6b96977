// docker-compose.yml sets no dead settings: every variable the app service gets is one the service
// reads (the framework's or the Redis plugin's), and the ones the compose set-up relies on are there.
#include <catch2/catch.hpp>

#include <algorithm>
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

}  // namespace

TEST_CASE("every variable docker-compose.yml gives the app is one the app reads") {
  const auto known = variables_the_service_reads();
  const auto set_by_compose = app_service_environment();
  REQUIRE_FALSE(set_by_compose.empty());
  for (const auto& name : set_by_compose) {
    INFO("docker-compose.yml sets " << name << " for the app, which nothing reads");
    CHECK(known.count(name) == 1);
  }
  for (const auto* needed : {"MQTT_BROKER", "ENABLE_REDIS", "REDIS_HOST", "REDIS_PASSWORD", "METRICS_HOST"}) {
    INFO("docker-compose.yml must set " << needed);
    CHECK(set_by_compose.count(needed) == 1);
  }
}

TEST_CASE("the TLS topology (docker-compose.tls.yml) gives the app only variables it reads, TLS among them") {
  const auto known = variables_the_service_reads();
  const auto set_by_override = app_service_environment("docker-compose.tls.yml");
  for (const auto& name : set_by_override) {
    INFO("docker-compose.tls.yml sets " << name << " for the app, which nothing reads");
    CHECK(known.count(name) == 1);
  }
  for (const auto* needed : {"REDIS_TLS", "REDIS_TLS_CA_FILE", "REDIS_PORT"}) CHECK(set_by_override.count(needed) == 1);
}

TEST_CASE("the Sentinel topology (docker-compose.sentinel.yml) gives the app only variables it reads") {
  const auto known = variables_the_service_reads();
  const auto set_by_override = app_service_environment("docker-compose.sentinel.yml");
  for (const auto& name : set_by_override) {
    INFO("docker-compose.sentinel.yml sets " << name << " for the app, which nothing reads");
    CHECK(known.count(name) == 1);
  }
  for (const auto* needed : {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"}) CHECK(set_by_override.count(needed) == 1);
}

TEST_CASE("the list of variables the app reads is the one its config loading uses") {
  const auto known = variables_the_service_reads();
  // A few the docs promise; a name dropped from the lists (or misspelled there) fails here.
  for (const auto* name : {"APP_WORKERS", "LOG_LEVEL", "LOG_FORMAT", "MQTT_PORT", "METRICS_PORT", "REDIS_URL",
                           "REDIS_SOCKET_TIMEOUT", "REDIS_KEY_PREFIX"})
    CHECK(known.count(name) == 1);
  CHECK(known.count("REDIS_HOSTNAME") == 0);
}
