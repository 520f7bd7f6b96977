#pragma once
// The Redis plugin's settings: environment, then the YAML `redis:` section, then defaults.
//
//   redis:
//     enabled: true                     # ENABLE_REDIS (default false: every call is a no-op)
//     url: redis://user:pass@host:6379/0  # REDIS_URL (rediss:// for TLS, unix:///path.sock); the fields below override its parts
//     host: localhost                   # REDIS_HOST
//     port: 6379                        # REDIS_PORT
//     db: 0                             # REDIS_DB
//     username: ""                      # REDIS_USERNAME
//     password: ""                      # REDIS_PASSWORD (never printed)
//     socket_path: ""                   # REDIS_SOCKET_PATH: a unix socket instead of host and port
//     tls:                              # TLS to Redis (rediss:// turns it on)
//       enabled: false                  # REDIS_TLS
//       ca_file: ""                     # REDIS_TLS_CA_FILE: the CAs to trust (default: the system's)
//       ca_dir: ""                      # REDIS_TLS_CA_DIR: a hashed CA directory
//       cert_file: ""                   # REDIS_TLS_CERT_FILE: our certificate, for mutual TLS
//       key_file: ""                    # REDIS_TLS_KEY_FILE: its key
//       verify: true                    # REDIS_TLS_VERIFY: check the certificate and its name (off: warned at start)
//       cert_reqs: required             # REDIS_TLS_CERT_REQS: seed 004's ssl_cert_reqs, verify said its way:
//                                       #   required | optional (the same, as in Python's ssl on a client) | none
//       server_name: ""                 # REDIS_TLS_SERVER_NAME: SNI and the name to check (default: host)
//     sentinel:                         # the master found and followed through Sentinel (host and port unused)
//       nodes: [host:26379, ...]        # REDIS_SENTINELS=host:port,host:port
//       master_name: mymaster           # REDIS_SENTINEL_MASTER
//       username: ""                    # REDIS_SENTINEL_USERNAME
//       password: ""                    # REDIS_SENTINEL_PASSWORD (never printed)
//       tls: {enabled: false, ...}      # REDIS_SENTINEL_TLS (files: as redis.tls, REDIS_SENTINEL_TLS_CA_FILE ...)
//     cluster:                          # a Redis Cluster (host and port unused; credentials and TLS as above)
//       nodes: [host:7000, ...]         # REDIS_CLUSTER_NODES=host:port,host:port: some nodes, the others are learned
//     read_from: master                 # REDIS_READ_FROM: master | replica_preferred | replica, with cluster or Sentinel (read_from.hpp)
//     max_connections: 4                # REDIS_MAX_CONNECTIONS (multiplexed, auto-pipelined; a cluster's shared out among its masters, one each at least)
//     socket_timeout: 5                 # REDIS_SOCKET_TIMEOUT, seconds per command
//     socket_connect_timeout: 5         # REDIS_SOCKET_CONNECT_TIMEOUT, seconds
//     key_prefix: "routemq:"            # REDIS_KEY_PREFIX
//     default_ttl: 0                    # REDIS_DEFAULT_TTL, seconds; 0 = keys do not expire
//     health_check_interval: 5          # REDIS_HEALTH_CHECK_INTERVAL, seconds idle before a PING; 0: no health checks
//     socket_keepalive: false           # REDIS_SOCKET_KEEPALIVE: TCP keepalive (SO_KEEPALIVE) on each connection
//     socket_keepalive_options:         # with it; each unset or 0: the system's
//       idle: 0                         # REDIS_SOCKET_KEEPALIVE_IDLE, seconds idle before the first probe (TCP_KEEPIDLE)
//       interval: 0                     # REDIS_SOCKET_KEEPALIVE_INTERVAL, seconds between probes (TCP_KEEPINTVL)
//       count: 0                        # REDIS_SOCKET_KEEPALIVE_COUNT, unanswered probes before it is dropped (TCP_KEEPCNT)
//     reconnect: {min_delay: 0.1, max_delay: 5}   # backoff, seconds
//     fallback_cache:                   # get/set answered in process while Redis is unavailable (fallback_cache.hpp)
//       max_entries: 0                  # REDIS_FALLBACK_CACHE_MAX_ENTRIES; 0 = off
//       max_bytes: 16777216             # REDIS_FALLBACK_CACHE_MAX_BYTES
//       max_age: 300                    # REDIS_FALLBACK_CACHE_MAX_AGE, seconds a value is kept at most
//     client_name: routemq              # CLIENT SETNAME
//     encryption_key: ""                # REDIS_ENCRYPTION_KEY: "id:base64key[,id:oldkey]" for redis::EncryptedValues (never printed)
//     codec: json                       # REDIS_CODEC: json | msgpack | raw, for CodecValues, CacheAside, WriteThrough, ValuesWithMetadata (codec.hpp)
//     encrypt_values: false             # REDIS_ENCRYPT_VALUES: those values and sessions sealed with encryption_key
#include <string>
#include <vector>

#include "core/config/config_node.hpp"
#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/connection/read_from.hpp"
#include "core/config/effective_config.hpp"
#include "core/config/environment.hpp"

namespace routemq::redis {

struct RedisConfig {
  bool enabled = false;
  std::string host = "localhost";
  int port = 6379;
  std::string socket_path;  // a unix socket instead of host and port
  TlsSettings tls;
  struct Sentinel {
    std::vector<std::string> nodes;  // "host:port" of some Sentinels (the others are learned); empty: no Sentinel
    std::string master_name;
    std::string username;
    std::string password;
    TlsSettings tls;  // to the Sentinels, apart from TLS to the master
  } sentinel;
  struct Cluster {
    std::vector<std::string> nodes;  // "host:port" of some nodes of a Redis Cluster; empty: no cluster
  } cluster;
  ReadFrom read_from = ReadFrom::master;  // read-only commands to replicas, on a cluster or behind Sentinel
  int db = 0;
  std::string username;
  std::string password;
  int max_connections = 4;
  double socket_timeout_s = 5;
  double connect_timeout_s = 5;
  std::string key_prefix = "routemq:";
  long long default_ttl_s = 0;
  double health_check_interval_s = 5;  // 0: no health checks
  net::TcpKeepalive socket_keepalive;   // off unless asked for, as in seed 004
  double reconnect_min_s = 0.1;
  double reconnect_max_s = 5;
  struct FallbackCache {
    long long max_entries = 0;  // 0: off
    long long max_bytes = 16LL * 1024 * 1024;
    double max_age_s = 300;
  } fallback_cache;
  std::string client_name = "routemq";
  std::string encryption_key;  // keyring.hpp: "id:base64key,..."; empty = no encrypted values
  std::string codec = "json";  // codec.hpp: json | msgpack | raw

  // "host:port" or "unix:/path", and "rediss://" before it with TLS: for messages.
  std::string address() const {
    if (!cluster.nodes.empty()) return "the cluster of " + cluster.nodes.front() + (cluster.nodes.size() > 1 ? ",..." : "");
    const auto where = socket_path.empty() ? host + ":" + std::to_string(port) : "unix:" + socket_path;
    return tls.enabled ? "rediss://" + where : where;
  }
  bool encrypt_values = false;  // the codec's bytes (and session fields) sealed with the keyring
};

// The parts of a redis:// URL. Throws ConfigError naming `where` on a malformed one.
struct RedisUrl {
  std::string host;  // empty for a unix:// URL
  int port = 6379;
  int db = 0;
  std::string username;
  std::string password;
  bool tls = false;         // rediss://
  std::string socket_path;  // unix:///path
};
// redis://, rediss:// (TLS) or unix:// (a socket path, ?db=N).
RedisUrl parse_redis_url(const std::string& url, const std::string& where);

// Throws ConfigError (file:line:column or variable, key, value, expectation) on an invalid value.
RedisConfig read_redis_config(const ConfigNode& section, const Environment& environment,
                              EffectiveConfig* effective = nullptr);

// The settings a manager outside an app uses (RedisManager(), the standalone redis_manager()): the
// environment, after a .env file in the working directory, read as the plugin reads it when no YAML
// section is given. Throws ConfigError as read_redis_config() does.
RedisConfig redis_config_from_environment();

// Every environment variable the plugin reads.
const std::vector<std::string>& redis_env_vars();

}  // namespace routemq::redis
