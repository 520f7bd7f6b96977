// The manager over TLS (verified, mutual, and each way it must refuse) and over a unix socket, against
// real redis-servers: every command family works the same, failures say what is wrong, and a server
// killed and restarted is reconnected to, its subscriptions restored.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "plugins/redis/pipeline.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/sentinel_group.hpp"
#include "tests/support/temp_dir.hpp"
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

// A CA directory as OpenSSL reads one (redis.tls.ca_dir): `ca` copied in, named by its hash (openssl rehash).
TempDir hashed_ca_dir(const std::string& ca) {
  TempDir dir;
  std::filesystem::copy_file(ca, dir / "ca.pem");
  const auto command = "openssl rehash '" + dir.path().string() + "' >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  return dir;
}

// The TCP timer of each established connection from this host to 127.0.0.1:`server_port`, as
// /proc/net/tcp shows it: "02:<hex clock ticks>" is the keepalive timer, which only a socket with
// SO_KEEPALIVE has while it idles.
std::vector<std::string> timers_of_connections_to(std::uint16_t server_port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  std::vector<std::string> timers;
  const auto remote = fmt::format("0100007F:{:04X}", server_port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote_address, state, queues, timer;
    fields >> slot >> local >> remote_address >> state >> queues >> timer;
    if (remote_address == remote && state == "01") timers.push_back(timer);  // 01: ESTABLISHED
  }
  return timers;
}

bool all_keepalive_within(const std::vector<std::string>& timers, int idle_s) {
  if (timers.empty()) return false;
  for (const auto& timer : timers) {
    if (!timer.starts_with("02:")) return false;
    const auto ticks = std::stol(timer.substr(3), nullptr, 16);  // USER_HZ: 100 a second
    if (ticks > idle_s * 100L) return false;                      // TCP_KEEPIDLE applied, not the system's 2 h
  }
  return true;
}

// How many PINGs the server has run (INFO commandstats), whoever sent them.
long long pings_served(RedisServer& server) {
  const auto info = server.command({"INFO", "commandstats"});
  const auto at = info.find("cmdstat_ping:calls=");
  return at == std::string::npos ? 0 : std::atoll(info.c_str() + at + 19);
}

}  // namespace

TEST_CASE("health_check_interval 0: an idle connection is never PINGed, and commands are served (seed 004)") {
  RedisServer quiet_server, checked_server;
  quiet_server.start();
  checked_server.start();
  auto quiet_config = redis_config_for(quiet_server.port(), "quiet:");
  quiet_config.health_check_interval_s = 0;
  auto checked_config = redis_config_for(checked_server.port(), "checked:");
  checked_config.health_check_interval_s = 0.05;
  redis::RedisManager quiet(quiet_config), checked(checked_config);
  REQUIRE(quiet.initialize());
  REQUIRE(checked.initialize());
  const auto quiet_before = pings_served(quiet_server), checked_before = pings_served(checked_server);
  // Both idle: the checked one's PINGs show the wait was long enough for health checks to run.
  REQUIRE(wait_until([&] { return pings_served(checked_server) >= checked_before + 4; }, 10s));
  CHECK(pings_served(quiet_server) == quiet_before);
  CHECK(quiet.run_sync(quiet.set("k", "v")));
  CHECK(quiet.run_sync(quiet.get("k")) == "v");
}

TEST_CASE("socket_keepalive: every connection to Redis has SO_KEEPALIVE and its idle time, as the kernel shows") {
  RedisServer server;
  server.start();
  auto config = redis_config_for(server.port());
  config.socket_keepalive = {.enabled = true, .idle_s = 7, .interval_s = 2, .count = 3};
  {
    redis::RedisManager r(config);
    REQUIRE(r.initialize());
    REQUIRE(wait_until([&] { return r.stats().connections_ready == 2; }, 10s));
    ReceivedMessages received;
    r.subscribe("news", received.handler());  // the subscriber's connection too
    REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
    CHECK(wait_until([&] { return timers_of_connections_to(server.port()).size() == 3; }, 10s));
    CHECK(wait_until([&] { return all_keepalive_within(timers_of_connections_to(server.port()), 7); }, 10s));
  }
  REQUIRE(wait_until([&] { return timers_of_connections_to(server.port()).empty(); }, 10s));
  redis::RedisManager without(redis_config_for(server.port()));  // the default: off, as in seed 004
  REQUIRE(without.initialize());
  REQUIRE(wait_until([&] { return timers_of_connections_to(server.port()).size() == 2; }, 10s));
  for (const auto& timer : timers_of_connections_to(server.port())) CHECK_FALSE(timer.starts_with("02:"));
}

TEST_CASE("TLS: a hashed CA directory (ca_dir) verifies the server, one without its CA refuses it") {
  RedisServer server({.tls = RedisTlsOptions{test_certificates().server}});
  server.start();
  const auto trusted = hashed_ca_dir(test_certificates().ca);
  auto config = tls_config_for(server);
  config.tls.ca_file.clear();
  config.tls.ca_dir = trusted.path().string();
  redis::RedisManager r(config);
  REQUIRE(r.initialize());
  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(r.run_sync(r.get("k")) == "v");

  const auto unrelated = hashed_ca_dir(test_certificates().other_ca);
  config.tls.ca_dir = unrelated.path().string();
  CHECK_THAT(failure_connecting(config), Catch::Contains("TLS: unknown CA"));
}

TEST_CASE("Sentinel with a password over TLS, naming a master with a password over TLS: resolved, commands served") {
  RedisServer master({.password = "master-secret", .tls = RedisTlsOptions{test_certificates().server}});
  master.start();
  // One Sentinel is enough to resolve: it watches the master's TLS port, with its password.
  SentinelServer sentinel(SentinelGroup::master_name, master.tls_port());
  const auto sentinel_tls_port = free_port();
  const auto& certificates = test_certificates();
  sentinel.extra_config = {"requirepass sentinel-secret",
                           "sentinel auth-pass " + std::string(SentinelGroup::master_name) + " master-secret",
                           "tls-port " + std::to_string(sentinel_tls_port),
                           "tls-cert-file " + certificates.server.cert,
                           "tls-key-file " + certificates.server.key,
                           "tls-ca-cert-file " + certificates.ca,
                           "tls-auth-clients no",
                           "tls-replication yes"};  // its own connections to the master: TLS too
  sentinel.start();

  auto config = redis_config_for(0);
  config.password = "master-secret";
  config.tls.enabled = true;
  config.tls.ca_file = certificates.ca;
  config.sentinel.nodes = {"127.0.0.1:" + std::to_string(sentinel_tls_port)};
  config.sentinel.master_name = SentinelGroup::master_name;
  config.sentinel.password = "sentinel-secret";
  config.sentinel.tls.enabled = true;
  config.sentinel.tls.ca_file = certificates.ca;
  redis::RedisManager r(config);
  REQUIRE(r.initialize());
  CHECK(r.run_sync(r.set("k", "through sentinel")));
  CHECK(r.run_sync(r.get("k")) == "through sentinel");
  CHECK(master.command({"GET", "test:k"}) == "$16\r\nthrough sentinel\r\n");

  // The Sentinel's password is checked: without it the master is never found.
  config.sentinel.password = "wrong";
  config.connect_timeout_s = 0.5;
  redis::RedisManager refused(config);
  CHECK_FALSE(refused.initialize());
}

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
