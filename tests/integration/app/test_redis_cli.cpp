// `routemq redis ping|stats|keys` as an operator runs them, against a real redis-server.
#include <catch2/catch.hpp>

#include "tests/support/app_process.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Runs `routemq redis ...` to its end; returns the exit code and what it printed.
std::pair<int, std::string> routemq_redis(const std::vector<std::string>& args, std::map<std::string, std::string> env) {
  std::vector<std::string> argv{"redis"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", example_config()});
  auto process = AppProcess::start(argv, env);
  REQUIRE(process.wait_exit(30s));
  return {process.exit_code().value_or(-1), process.log_text()};
}

}  // namespace

TEST_CASE("routemq redis ping, stats and keys use the service's config") {
  RedisServer server({.password = "s3cret"});
  server.start();
  REQUIRE(server.command({"SET", "routemq:device:a", "1"}) == "+OK\r\n");
  REQUIRE(server.command({"HSET", "routemq:device:b", "f", "v"}) == ":1\r\n");
  REQUIRE(server.command({"SET", "other:device:c", "1"}) == "+OK\r\n");
  const std::map<std::string, std::string> env{
      {"ENABLE_REDIS", "true"}, {"REDIS_URL", "redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/0"}};

  auto [ping_code, ping_out] = routemq_redis({"ping"}, env);
  CHECK(ping_code == 0);
  CHECK_THAT(ping_out, Catch::Contains("PONG from 127.0.0.1:" + std::to_string(server.port())));
  CHECK_THAT(ping_out, !Catch::Contains("s3cret"));  // secrets never printed

  auto [stats_code, stats_out] = routemq_redis({"stats"}, env);
  CHECK(stats_code == 0);
  CHECK_THAT(stats_out, Catch::Contains("server: 3 keys in db 0, "));
  CHECK_THAT(stats_out, Catch::Contains("string: 1") && Catch::Contains("hash: 1"));  // only under the prefix

  auto [keys_code, keys_out] = routemq_redis({"keys", "device:*"}, env);
  CHECK(keys_code == 0);
  CHECK_THAT(keys_out, Catch::Contains("device:a\n") && Catch::Contains("device:b\n"));
  CHECK_THAT(keys_out, !Catch::Contains("device:c"));
}

TEST_CASE("routemq redis fails clearly when Redis is disabled, unreachable or refuses the password") {
  RedisServer server({.password = "right"});
  server.start();
  const auto url = [&](const std::string& password) {
    return "redis://:" + password + "@127.0.0.1:" + std::to_string(server.port()) + "/0";
  };
  auto [disabled_code, disabled_out] = routemq_redis({"ping"}, {{"ENABLE_REDIS", "false"}});
  CHECK(disabled_code == 1);
  CHECK_THAT(disabled_out, Catch::Contains("Redis is disabled"));

  auto [wrong_code, wrong_out] =
      routemq_redis({"ping"}, {{"ENABLE_REDIS", "true"},
                               {"REDIS_URL", url("wrong")},
                               {"REDIS_SOCKET_CONNECT_TIMEOUT", "0.5"},
                               {"LOG_FORMAT", "json"}});
  CHECK(wrong_code == 1);
  CHECK_THAT(wrong_out, Catch::Contains("did not answer"));
  CHECK_THAT(wrong_out, !Catch::Contains("wrong@"));
  CHECK_THAT(wrong_out, Catch::Contains("{\"level\":\"warning\",\"msg\":\"redis: "));  // LOG_FORMAT=json

  // TLS spoken to a plaintext port: the reason is printed, not only the timeout.
  auto [tls_code, tls_out] = routemq_redis(
      {"ping"}, {{"ENABLE_REDIS", "true"},
                 {"REDIS_URL", "rediss://:right@127.0.0.1:" + std::to_string(server.port())},
                 {"REDIS_SOCKET_CONNECT_TIMEOUT", "0.5"}});
  CHECK(tls_code == 1);
  CHECK_THAT(tls_out, Catch::Contains("did not answer") && Catch::Contains("TLS: no answer to the TLS handshake"));

  server.stop();
  auto [down_code, down_out] =
      routemq_redis({"stats"}, {{"ENABLE_REDIS", "true"}, {"REDIS_URL", url("right")}, {"REDIS_SOCKET_CONNECT_TIMEOUT", "0.5"}});
  CHECK(down_code == 1);
  CHECK_THAT(down_out, Catch::Contains("did not answer"));

  auto [usage_code, usage_out] = routemq_redis({"keys"}, {});
  CHECK(usage_code == 2);
  CHECK_THAT(usage_out, Catch::Contains("pattern is required"));
}
