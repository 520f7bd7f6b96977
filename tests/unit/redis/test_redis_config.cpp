#include <catch2/catch.hpp>

#include "core/config/config_error.hpp"
#include "plugins/redis/redis_config.hpp"

using namespace routemq;
using namespace routemq::redis;
using Vars = std::map<std::string, std::string>;

namespace {
RedisConfig read(const std::string& yaml, Vars env = {}) {
  EffectiveConfig effective;
  ConfigNode root(YAML::Load(yaml), "", Location{"app.yaml"});
  return read_redis_config(root.child("redis"), Environment(env), &effective);
}
}  // namespace

TEST_CASE("Redis defaults are safe: disabled, localhost, the routemq: prefix") {
  const auto config = read("");
  CHECK_FALSE(config.enabled);
  CHECK(config.host == "localhost");
  CHECK(config.port == 6379);
  CHECK(config.db == 0);
  CHECK(config.key_prefix == "routemq:");
  CHECK(config.default_ttl_s == 0);
  CHECK(config.max_connections == 4);
}

TEST_CASE("environment over YAML over defaults, with RouteMQ's variable names") {
  const std::string yaml = "redis:\n  enabled: false\n  host: yaml-host\n  port: 7000\n  socket_timeout: 2.5\n";
  const auto config = read(yaml, {{"ENABLE_REDIS", "true"}, {"REDIS_HOST", "env-host"}, {"REDIS_DB", "2"},
                                  {"REDIS_PASSWORD", "pw"}, {"REDIS_USERNAME", "u"}, {"REDIS_MAX_CONNECTIONS", "8"},
                                  {"REDIS_SOCKET_CONNECT_TIMEOUT", "0.5"}, {"REDIS_KEY_PREFIX", "app:"},
                                  {"REDIS_DEFAULT_TTL", "60"}});
  CHECK(config.enabled);
  CHECK(config.host == "env-host");
  CHECK(config.port == 7000);
  CHECK(config.db == 2);
  CHECK(config.password == "pw");
  CHECK(config.username == "u");
  CHECK(config.max_connections == 8);
  CHECK(config.socket_timeout_s == 2.5);
  CHECK(config.connect_timeout_s == 0.5);
  CHECK(config.key_prefix == "app:");
  CHECK(config.default_ttl_s == 60);
}

TEST_CASE("REDIS_URL provides the connection, explicit variables override its parts") {
  auto config = read("", {{"REDIS_URL", "redis://user:p%40ss@cache.local:6380/4"}});
  CHECK(config.host == "cache.local");
  CHECK(config.port == 6380);
  CHECK(config.db == 4);
  CHECK(config.username == "user");
  CHECK(config.password == "p@ss");
  config = read("", {{"REDIS_URL", "redis://cache.local"}, {"REDIS_PORT", "7001"}});
  CHECK(config.host == "cache.local");
  CHECK(config.port == 7001);
  // An environment URL beats the YAML file's parts (env over YAML); a YAML url is overridden by YAML parts.
  config = read("redis:\n  host: localhost\n  port: 6379\n", {{"REDIS_URL", "redis://cache.local:6380/2"}});
  CHECK(config.host == "cache.local");
  CHECK(config.port == 6380);
  CHECK(config.db == 2);
  config = read("redis:\n  url: redis://cache.local:6380\n  port: 6381\n");
  CHECK(config.port == 6381);
  config = read("redis:\n  url: redis://:secret@[::1]:6390\n");
  CHECK(config.host == "::1");
  CHECK(config.port == 6390);
  CHECK(config.password == "secret");
  CHECK(config.username.empty());
}

TEST_CASE("invalid Redis settings are errors naming the variable or the key") {
  CHECK_THROWS_WITH(read("", {{"REDIS_PORT", "abc"}}),
                    Catch::Contains("environment variable REDIS_PORT='abc': expected an integer between 1 and 65535 "
                                    "(overrides redis.port)"));
  CHECK_THROWS_WITH(read("", {{"REDIS_SOCKET_TIMEOUT", "soon"}}),
                    Catch::Contains("REDIS_SOCKET_TIMEOUT='soon': expected a number"));
  CHECK_THROWS_WITH(read("", {{"ENABLE_REDIS", "maybe"}}), Catch::Contains("ENABLE_REDIS='maybe': expected a boolean"));
  CHECK_THROWS_WITH(read("", {{"REDIS_MAX_CONNECTIONS", "0"}}), Catch::Contains("REDIS_MAX_CONNECTIONS"));
  CHECK_THROWS_WITH(read("redis:\n  hots: x\n"), Catch::Contains("app.yaml:2:3: redis.hots: unknown key (did you mean 'host'?"));
  CHECK_THROWS_WITH(read("redis:\n  port: 0\n"), Catch::Contains("app.yaml:2:9: redis.port: expected an integer"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "http://x"}}),
                    Catch::Contains("environment variable REDIS_URL: expected a URL like redis://"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "redis://h:99999"}}), Catch::Contains("expected a port between 1 and 65535"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "redis://h/x"}}), Catch::Contains("expected a database number"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "redis://user:pw@"}}), Catch::Contains("has no host"));
  CHECK_THROWS_WITH(read("redis:\n  reconnect: {min_delay: 2, max_delay: 1}\n"),
                    Catch::Contains("max_delay must not be below min_delay"));
  // The URL may hold a password: it is never echoed.
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "redis://u:topsecret@h:abc"}}), !Catch::Contains("topsecret"));
}

TEST_CASE("the password never appears in the effective config") {
  EffectiveConfig effective;
  ConfigNode root(YAML::Load("redis:\n  password: hunter2\n"), "", Location{"app.yaml"});
  (void)read_redis_config(root.child("redis"), Environment(Vars{{"REDIS_URL", "redis://:s3cret@h"}}), &effective);
  const auto text = effective.to_yaml_like_text();
  CHECK_THAT(text, !Catch::Contains("hunter2") && !Catch::Contains("s3cret"));
  CHECK_THAT(text, Catch::Contains("password: \"***\""));
}

TEST_CASE("REDIS_ENCRYPTION_KEY: read as a secret, a bad one named by variable or YAML position, never quoted") {
  const std::string key = "k1:AwnnZBKtdhkd/L5YECplYdht5J9JUUyeED/4MQwcT6o=";
  CHECK(read("", {{"REDIS_ENCRYPTION_KEY", key}}).encryption_key == key);
  CHECK(read("redis:\n  encryption_key: \"" + key + "\"\n").encryption_key == key);
  CHECK_THROWS_WITH(read("", {{"REDIS_ENCRYPTION_KEY", "k1:c2VjcmV0"}}),
                    Catch::Contains("environment variable REDIS_ENCRYPTION_KEY: key 1 ('k1'): expected 32 bytes"));
  CHECK_THROWS_WITH(read("", {{"REDIS_ENCRYPTION_KEY", "k1:c2VjcmV0"}}), !Catch::Contains("c2VjcmV0"));
  CHECK_THROWS_WITH(read("redis:\n  encryption_key: \"k1:c2VjcmV0\"\n"),
                    Catch::Contains("app.yaml:2:19: redis.encryption_key: key 1 ('k1')"));
}

TEST_CASE("encrypt_values: needs an encryption key, named by YAML position or variable") {
  const std::string key = "k1:AwnnZBKtdhkd/L5YECplYdht5J9JUUyeED/4MQwcT6o=";
  CHECK_FALSE(read("").encrypt_values);
  CHECK(read("redis:\n  encrypt_values: true\n", {{"REDIS_ENCRYPTION_KEY", key}}).encrypt_values);
  CHECK(read("", {{"REDIS_ENCRYPT_VALUES", "true"}, {"REDIS_ENCRYPTION_KEY", key}}).encrypt_values);
  CHECK_THROWS_WITH(read("redis:\n  encrypt_values: true\n"),
                    Catch::Contains("app.yaml:2:19: redis.encrypt_values: encrypt_values needs an encryption_key"));
  CHECK_THROWS_WITH(read("", {{"REDIS_ENCRYPT_VALUES", "1"}}),
                    Catch::Contains("environment variable REDIS_ENCRYPT_VALUES"));
}

TEST_CASE("rediss:// turns TLS on, unix:// names a socket, and the tls section is read and checked") {
  auto config = read("", {{"REDIS_URL", "rediss://u:pw@cache.example:6380/1"}});
  CHECK(config.tls.enabled);
  CHECK(config.tls.verify);
  CHECK(config.host == "cache.example");
  CHECK(config.address() == "rediss://cache.example:6380");
  CHECK_FALSE(read("", {{"REDIS_URL", "rediss://h"}, {"REDIS_TLS", "false"}}).tls.enabled);  // its own variable wins

  config = read("", {{"REDIS_URL", "unix://:pw@/run/redis/redis.sock?db=3"}});
  CHECK(config.socket_path == "/run/redis/redis.sock");
  CHECK(config.db == 3);
  CHECK(config.password == "pw");
  CHECK(config.address() == "unix:/run/redis/redis.sock");
  CHECK(read("redis:\n  socket_path: /tmp/r.sock\n").socket_path == "/tmp/r.sock");

  config = read("redis:\n  tls: {enabled: true, ca_file: /etc/hostname, verify: false, server_name: cache.internal}\n");
  CHECK(config.tls.enabled);
  CHECK(config.tls.ca_file == "/etc/hostname");
  CHECK_FALSE(config.tls.verify);
  CHECK(config.tls.server_name == "cache.internal");
  CHECK(read("", {{"REDIS_TLS", "true"}, {"REDIS_TLS_SERVER_NAME", "x"}}).tls.server_name == "x");
}

TEST_CASE("TLS and socket settings that cannot work are refused at start, naming the key or variable") {
  CHECK_THROWS_WITH(read("redis:\n  tls: {enabled: true, ca_file: /nonexistent/ca.pem}\n"),
                    Catch::Contains("app.yaml:2:33: redis.tls.ca_file: expected a readable CA certificate file (PEM) "
                                    "(got '/nonexistent/ca.pem'"));
  CHECK_THROWS_WITH(read("", {{"REDIS_TLS_KEY_FILE", "/nonexistent/key.pem"}}),
                    Catch::Contains("environment variable REDIS_TLS_KEY_FILE: expected a readable private key file"));
  CHECK_THROWS_WITH(read("redis:\n  tls: {cert_file: /etc/hostname}\n"),
                    Catch::Contains("cert_file and key_file go together"));
  CHECK_THROWS_WITH(read("redis:\n  socket_path: /tmp/r.sock\n  tls: {enabled: true}\n"),
                    Catch::Contains("TLS over a unix socket is not supported"));
  CHECK_THROWS_WITH(read("redis:\n  tls: {enabeld: true}\n"), Catch::Contains("did you mean 'enabled'"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "unix://relative.sock"}}), Catch::Contains("an absolute socket path"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "unix:///r.sock?timeout=1"}}), Catch::Contains("?db=N"));
  CHECK_THROWS_WITH(read("", {{"REDIS_URL", "http://x"}}), Catch::Contains("rediss://"));
}

TEST_CASE("Sentinel settings: nodes as a list or a comma list, and what cannot work refused with its place") {
  auto config = read("", {{"REDIS_SENTINELS", "10.0.0.7:26379, [::1]:26380"}, {"REDIS_SENTINEL_MASTER", "mymaster"}});
  CHECK(config.sentinel.nodes == std::vector<std::string>{"10.0.0.7:26379", "[::1]:26380"});
  CHECK(config.sentinel.master_name == "mymaster");
  CHECK(read("redis:\n  sentinel: {nodes: [s1:26379], master_name: m, password: pw}\n").sentinel.password == "pw");
  for (const char* hostile : {"s1", "s1:0", "s1:99999", ":26379", "s1:2637x", "*:26379x", "\xff\xfe:1x"}) {
    INFO(hostile);
    CHECK_THROWS_WITH(read("", {{"REDIS_SENTINELS", hostile}, {"REDIS_SENTINEL_MASTER", "m"}}),
                      Catch::Contains("environment variable REDIS_SENTINELS: expected host:port for each Sentinel"));
  }
  CHECK_THROWS_WITH(read("redis:\n  sentinel: {nodes: [s1:26379]}\n"), Catch::Contains("needs the master's name"));
  CHECK_THROWS_WITH(read("redis:\n  socket_path: /tmp/r.sock\n  sentinel: {nodes: [s1:26379], master_name: m}\n"),
                    Catch::Contains("drop socket_path"));
  CHECK_THROWS_WITH(read("redis:\n  sentinel: {nodes: [s1:26379], master_name: m, tls: {cert_file: /etc/hostname}}\n"),
                    Catch::Contains("cert_file and key_file go together"));
}

TEST_CASE("Cluster settings: seed nodes as a list or a comma list, and what cannot work refused with its place") {
  auto config = read("", {{"REDIS_CLUSTER_NODES", "10.0.0.7:7000, [::1]:7001"}});
  CHECK(config.cluster.nodes == std::vector<std::string>{"10.0.0.7:7000", "[::1]:7001"});
  CHECK(read("redis:\n  cluster: {nodes: [n1:7000, n2:7000]}\n").cluster.nodes.size() == 2);
  CHECK(read("").cluster.nodes.empty());
  for (const char* hostile : {"n1", "n1:0", "n1:70000", ":7000", "n1:70x", "\xff\xfe:1x"}) {
    INFO(hostile);
    CHECK_THROWS_WITH(read("", {{"REDIS_CLUSTER_NODES", hostile}}),
                      Catch::Contains("environment variable REDIS_CLUSTER_NODES: expected host:port for each cluster node"));
  }
  CHECK_THROWS_WITH(read("redis:\n  cluster: {nodes: [n1]}\n"), Catch::Contains("app.yaml:2:20: redis.cluster.nodes: expected host:port"));
  CHECK_THROWS_WITH(read("redis:\n  cluster: {nodse: [n1:7000]}\n"), Catch::Contains("did you mean 'nodes'"));
  CHECK_THROWS_WITH(read("redis:\n  db: 2\n  cluster: {nodes: [n1:7000]}\n"), Catch::Contains("database 0 only"));
  CHECK_THROWS_WITH(read("redis:\n  socket_path: /tmp/r.sock\n  cluster: {nodes: [n1:7000]}\n"),
                    Catch::Contains("drop socket_path"));
  CHECK_THROWS_WITH(read("redis:\n  sentinel: {nodes: [s1:26379], master_name: m}\n  cluster: {nodes: [n1:7000]}\n"),
                    Catch::Contains("drop the Sentinel settings"));
}

TEST_CASE("fallback_cache: off by default, read from YAML or the environment, bad values named") {
  CHECK(read("").fallback_cache.max_entries == 0);
  const auto config = read("redis:\n  fallback_cache: {max_entries: 500, max_age: 30}\n",
                           {{"REDIS_FALLBACK_CACHE_MAX_BYTES", "65536"}});
  CHECK(config.fallback_cache.max_entries == 500);
  CHECK(config.fallback_cache.max_bytes == 65536);
  CHECK(config.fallback_cache.max_age_s == 30);
  CHECK_THROWS_WITH(read("redis:\n  fallback_cache: {max_entrys: 5}\n"),
                    Catch::Contains("app.yaml:2:20: redis.fallback_cache.max_entrys: unknown key (did you mean 'max_entries'?"));
  CHECK_THROWS_WITH(read("", {{"REDIS_FALLBACK_CACHE_MAX_ENTRIES", "-1"}}),
                    Catch::Contains("REDIS_FALLBACK_CACHE_MAX_ENTRIES='-1': expected an integer between 0"));
}

TEST_CASE("read_from: master by default, replica_preferred or replica with a cluster or Sentinel, from YAML or REDIS_READ_FROM") {
  CHECK(read("").read_from == ReadFrom::master);
  CHECK(read("redis:\n  read_from: replica\n  cluster: {nodes: ['10.0.0.1:7000']}\n").read_from == ReadFrom::replica);
  CHECK(read("redis:\n  read_from: replica\n  sentinel: {nodes: ['10.0.0.1:26379'], master_name: m}\n",
             {{"REDIS_READ_FROM", "replica_preferred"}})
            .read_from == ReadFrom::replica_preferred);  // the environment wins
  CHECK(read("redis:\n  read_from: master\n").read_from == ReadFrom::master);  // master needs nothing
}

TEST_CASE("read_from: a bad value, or replicas without a cluster or Sentinel, are errors naming the key or variable") {
  CHECK_THROWS_WITH(read("redis:\n  read_from: slave\n  cluster: {nodes: ['10.0.0.1:7000']}\n"),
                    Catch::Contains("app.yaml:2:14: redis.read_from") && Catch::Contains("master, replica_preferred, replica"));
  CHECK_THROWS_WITH(read("", {{"REDIS_READ_FROM", "nearest"}}), Catch::Contains("REDIS_READ_FROM='nearest'"));
  CHECK_THROWS_WITH(read("redis:\n  read_from: replica\n"),
                    Catch::Contains("app.yaml:2:14: redis.read_from: 'replica' reads from replicas, which only a cluster"));
  CHECK_THROWS_WITH(read("", {{"REDIS_READ_FROM", "replica_preferred"}}),
                    Catch::Contains("environment variable REDIS_READ_FROM"));
}

TEST_CASE("seed 004's connection options: socket_keepalive and its options, health_check_interval 0, ssl_cert_reqs") {
  CHECK_FALSE(read("").socket_keepalive.enabled);  // off unless asked for, as in seed 004
  auto config = read("redis:\n  socket_keepalive: true\n  socket_keepalive_options: {idle: 30, interval: 5, count: 3}\n");
  CHECK(config.socket_keepalive.enabled);
  CHECK(config.socket_keepalive.idle_s == 30);
  CHECK(config.socket_keepalive.interval_s == 5);
  CHECK(config.socket_keepalive.count == 3);
  config = read("", {{"REDIS_SOCKET_KEEPALIVE", "true"}, {"REDIS_SOCKET_KEEPALIVE_IDLE", "60"}});
  CHECK(config.socket_keepalive.enabled);
  CHECK(config.socket_keepalive.idle_s == 60);
  CHECK(config.socket_keepalive.interval_s == 0);  // the system's
  CHECK_THROWS_WITH(read("redis:\n  socket_keepalive_options: {idle: 30}\n"),
                    Catch::Contains("app.yaml:2:29: redis.socket_keepalive_options: without socket_keepalive: true"));
  CHECK_THROWS_WITH(read("", {{"REDIS_SOCKET_KEEPALIVE_COUNT", "3"}}),
                    Catch::Contains("environment variables REDIS_SOCKET_KEEPALIVE_*: without socket_keepalive: true"));
  CHECK_THROWS_WITH(read("redis:\n  socket_keepalive: true\n  socket_keepalive_options: {idel: 30}\n"),
                    Catch::Contains("did you mean 'idle'"));

  CHECK(read("redis:\n  health_check_interval: 0\n").health_check_interval_s == 0);  // off
  CHECK(read("", {{"REDIS_HEALTH_CHECK_INTERVAL", "0"}}).health_check_interval_s == 0);
  CHECK_THROWS_WITH(read("", {{"REDIS_HEALTH_CHECK_INTERVAL", "0.001"}}),
                    Catch::Contains("REDIS_HEALTH_CHECK_INTERVAL: expected 0 (no health checks) or at least 0.01"));

  // cert_reqs says verify in seed 004's words; "optional" verifies, as Python's CERT_OPTIONAL does on a client.
  CHECK(read("redis:\n  tls: {cert_reqs: required}\n").tls.verify);
  CHECK(read("redis:\n  tls: {cert_reqs: optional}\n").tls.verify);
  CHECK_FALSE(read("redis:\n  tls: {cert_reqs: none}\n").tls.verify);
  CHECK_FALSE(read("", {{"REDIS_TLS_CERT_REQS", "none"}}).tls.verify);
  CHECK_FALSE(read("", {{"REDIS_SENTINEL_TLS_CERT_REQS", "none"}}).sentinel.tls.verify);
  CHECK(read("redis:\n  tls: {cert_reqs: required, verify: true}\n").tls.verify);  // agreeing: fine
  CHECK_THROWS_WITH(read("redis:\n  tls: {cert_reqs: none, verify: true}\n"),
                    Catch::Contains("cert_reqs 'none' contradicts verify true"));
  CHECK_THROWS_WITH(read("", {{"REDIS_TLS_CERT_REQS", "sometimes"}}), Catch::Contains("REDIS_TLS_CERT_REQS='sometimes'"));
}
