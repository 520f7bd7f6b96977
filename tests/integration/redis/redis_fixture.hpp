#pragma once
// A RedisManager connected to a private redis-server, for integration and fault tests.
#include <chrono>

#include <catch2/catch.hpp>

#include "plugins/redis/redis_manager.hpp"
#include "tests/support/received_messages.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait_until.hpp"

namespace routemq::test {

inline redis::RedisConfig redis_config_for(std::uint16_t port, std::string prefix = "test:") {
  redis::RedisConfig config;
  config.enabled = true;
  config.host = "127.0.0.1";
  config.port = port;
  config.key_prefix = std::move(prefix);
  config.max_connections = 2;
  config.socket_timeout_s = 1;
  config.connect_timeout_s = 1;
  config.health_check_interval_s = 0.5;
  config.reconnect_min_s = 0.02;
  config.reconnect_max_s = 0.3;
  return config;
}

struct RedisFixture {
  explicit RedisFixture(const RedisOptions& options = {}, std::string prefix = "test:") : server(options) {
    server.start();
    auto config = redis_config_for(server.port(), std::move(prefix));
    config.username = options.username;
    config.password = options.password;
    redis.configure(config);
    redis.initialize();
    REQUIRE(redis.wait_connected(std::chrono::seconds(10)));
    // Every connection up, not just the first: tests that count the server's clients take their
    // baseline now, and one connecting later (on a loaded machine) would look like a leak.
    REQUIRE(wait_until([&] { return redis.stats().connections_ready == static_cast<std::size_t>(config.max_connections); },
                       std::chrono::seconds(10)));
  }
  template <class T>
  T sync(awaitable<T> operation) {
    return redis.run_sync(std::move(operation));
  }

  RedisServer server;
  redis::RedisManager redis{redis::RedisConfig{}};  // configured by the constructor
};

}  // namespace routemq::test
