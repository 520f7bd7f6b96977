// The manager over TLS (verified, mutual, and each way it must refuse) and over a unix socket, against
// real redis-servers: every command family works the same, failures say what is wrong, and a server
// killed and restarted is reconnected to, its subscriptions restored.
#include <catch2/catch.hpp>

#include "plugins/redis/pipeline.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/test_certificates.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

redis::RedisConfig tls_config_for(const RedisServer& server) {
  auto config = redis_config_for(server.tls_port());
  config.tls.enabled = true;
  config.tls.ca_file = test_certificates().ca;
  return config;
}

redis::RedisConfig unix_config_for(const RedisServer& server) {
  auto config = redis_config_for(0);
  config.socket_path = server.socket_path();
  return config;
}

const redis::Script add_script("return redis.call('INCRBY', KEYS[1], ARGV[1])");

// Every command family once: typed commands, a typed pipeline, a transaction, a script, BLPOP on a
// connection of its own, and pub/sub on the subscriber connection.
void exercise_every_family(redis::RedisManager& r) {
  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(r.run_sync(r.get("k")) == "v");
  redis::Pipeline pipe(r);
  auto counted = pipe.incr("n");
  auto listed = pipe.rpush("list", {"a"});
  CHECK(r.run_sync(pipe.run()));
  CHECK(counted.get() == 1);
  CHECK(listed.get() == 1);
  redis::Batch batch;
  batch.push({"INCR", r.key("n")});
  batch.push({"INCR", r.key("n")});
  CHECK(r.run_sync(r.transaction(batch)).succeeded());
  CHECK(r.run_sync(r.eval(add_script, {"n"}, {"10"})).reply.integer == 13);
  CHECK(r.run_sync(r.blpop({"list"}, 1s)) == std::pair<std::string, std::string>{"list", "a"});
  ReceivedMessages received;
  r.subscribe("news", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  CHECK(r.run_sync(r.publish("news", "hello")) == 1);
  REQUIRE(wait_until([&] { return received.contains("news:hello"); }, 10s));
}

// The manager tried to connect and failed; the reason it gives.
std::string failure_connecting(redis::RedisConfig config) {
  config.connect_timeout_s = 0.5;
  redis::RedisManager r(config);
  CHECK_FALSE(r.initialize());
  REQUIRE(wait_until([&] { return !r.stats().last_failure.empty(); }, 10s));
  CHECK_FALSE(r.is_connected());
  CHECK(r.stats().connection_failures > 0);
  return r.stats().last_failure;
}

}  // namespace

TEST_CASE("TLS: every command family over a verified connection, by rediss:// URL or settings") {
  RedisServer server({.tls = RedisTlsOptions{test_certificates().server}});
  server.start();
  redis::RedisManager r(tls_config_for(server));
  REQUIRE(r.initialize());
  exercise_every_family(r);
  CHECK(r.stats().last_failure.empty());
  // The same through a URL naming "localhost", which the certificate carries as a DNS name.
  auto url_config = redis::read_redis_config(
      ConfigNode(), Environment({{"ENABLE_REDIS", "true"},
                                 {"REDIS_URL", "rediss://localhost:" + std::to_string(server.tls_port())},
                                 {"REDIS_TLS_CA_FILE", test_certificates().ca}}));
  CHECK(url_config.tls.enabled);
  redis::RedisManager by_url(url_config);
  CHECK(by_url.initialize());
  CHECK(by_url.run_sync(by_url.ping()));
}

TEST_CASE("TLS: mutual TLS needs our certificate, and works with it") {
  RedisServer server({.tls = RedisTlsOptions{test_certificates().server, true}});
  server.start();
  auto config = tls_config_for(server);
  CHECK_THAT(failure_connecting(config), Catch::Contains("TLS: ") && Catch::Contains("set redis.tls.cert_file"));
  config.tls.cert_file = test_certificates().client.cert;
  config.tls.key_file = test_certificates().client.key;
  redis::RedisManager r(config);
  REQUIRE(r.initialize());
  exercise_every_family(r);
}

TEST_CASE("TLS: a wrong CA, a hostname mismatch, an expired certificate and a plaintext server each fail with their own words") {
  RedisServer server({.tls = RedisTlsOptions{test_certificates().server}});
  server.start();
  auto wrong_ca = tls_config_for(server);
  wrong_ca.tls.ca_file = test_certificates().other_ca;
  CHECK_THAT(failure_connecting(wrong_ca), Catch::Contains("TLS: unknown CA"));

  auto other_name = tls_config_for(server);
  other_name.tls.server_name = "redis.example.com";
  CHECK_THAT(failure_connecting(other_name), Catch::Contains("TLS: hostname mismatch"));

  RedisServer expired({.tls = RedisTlsOptions{test_certificates().expired}});
  expired.start();
  CHECK_THAT(failure_connecting(tls_config_for(expired)), Catch::Contains("TLS: the server's certificate has expired"));

  auto tls_to_plaintext = tls_config_for(server);
  tls_to_plaintext.port = server.port();
  CHECK_THAT(failure_connecting(tls_to_plaintext), Catch::Contains("TLS") && Catch::Contains("plaintext"));

  auto plaintext_to_tls = redis_config_for(server.tls_port());
  CHECK_THAT(failure_connecting(plaintext_to_tls), Catch::Contains("a TLS port?"));

  // Verification off: the wrong CA connects (warned at start), for tests and nothing else.
  wrong_ca.tls.verify = false;
  redis::RedisManager unverified(wrong_ca);
  CHECK(unverified.initialize());
}

TEST_CASE("TLS: kill -9 and restart of the server: reconnected and resubscribed by itself") {
  RedisServer server({.tls = RedisTlsOptions{test_certificates().server}});
  server.start();
  redis::RedisManager r(tls_config_for(server));
  REQUIRE(r.initialize());
  ReceivedMessages received;
  r.subscribe("news", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  server.kill9();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  CHECK_FALSE(r.run_sync(r.set("k", "v")));  // degraded: at once, no exception
  server.start();
  REQUIRE(wait_until([&] { return r.is_connected() && r.subscriptions_active(); }, 15s));
  CHECK(r.run_sync(r.set("k", "v")));
  REQUIRE(wait_until([&] { return r.run_sync(r.publish("news", "back")) == 1; }, 10s));
  REQUIRE(wait_until([&] { return received.contains("news:back"); }, 10s));
  CHECK(r.stats().reconnects > 0);
}

TEST_CASE("unix socket: every command family, by unix:// URL or socket_path, and a restart") {
  RedisServer server({.unix_socket = true});
  server.start();
  redis::RedisManager r(unix_config_for(server));
  REQUIRE(r.initialize());
  exercise_every_family(r);
  CHECK(server.command({"GET", "test:k"}) == "$1\r\nv\r\n");  // the same server

  server.kill9();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  server.start();
  REQUIRE(wait_until([&] { return r.is_connected(); }, 15s));
  CHECK(r.run_sync(r.get("k")) == std::nullopt);  // a new, empty server: but reached again

  auto url_config = redis::read_redis_config(
      ConfigNode(), Environment({{"ENABLE_REDIS", "true"}, {"REDIS_URL", "unix://" + server.socket_path() + "?db=2"}}));
  CHECK(url_config.socket_path == server.socket_path());
  CHECK(url_config.db == 2);
  redis::RedisManager by_url(url_config);
  CHECK(by_url.initialize());
  CHECK(by_url.run_sync(by_url.set("in-db-2", "x")));
  CHECK(server.command({"EVAL", "redis.call('SELECT', 2) return redis.call('GET', KEYS[1])", "1", "routemq:in-db-2"}) ==
        "$1\r\nx\r\n");
}
