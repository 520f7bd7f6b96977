#include "plugins/redis/redis_config.hpp"

#include "core/config/dotenv.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "plugins/redis/sentinel/sentinel_replies.hpp"
#include "plugins/redis/keyring.hpp"

namespace routemq::redis {
namespace {

// %XX escapes in URL user info (passwords often contain '@' or ':').
std::string percent_decode(std::string_view text, const std::string& where) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int value = 0;
    if (i + 2 >= text.size() ||
        std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr != text.data() + i + 3)
      throw ConfigError(fmt::format("{}: invalid %-escape in the Redis URL", where));
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

int parse_number(std::string_view text, int min, int max, const std::string& where, std::string_view what) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max)
    throw ConfigError(fmt::format("{}: expected {} between {} and {} in the Redis URL (got '{}')", where, what, min,
                                  max, text));
  return value;
}


// "user:password@" at the front of `rest`, %-decoded, taken off.
void take_user_info(std::string_view& rest, RedisUrl& parsed, const std::string& where) {
  const auto at = rest.rfind('@');
  if (at == std::string_view::npos) return;
  const auto user_info = rest.substr(0, at);
  const auto colon = user_info.find(':');
  parsed.username = percent_decode(user_info.substr(0, colon), where);
  if (colon != std::string_view::npos) parsed.password = percent_decode(user_info.substr(colon + 1), where);
  rest.remove_prefix(at + 1);
}

// unix://[user:password@]/path/to/redis.sock[?db=N]
RedisUrl parse_unix_url(std::string_view rest, const std::string& where) {
  RedisUrl parsed;
  take_user_info(rest, parsed, where);
  const auto query = rest.find('?');
  parsed.socket_path = std::string(rest.substr(0, query));
  if (!parsed.socket_path.starts_with('/'))
    throw ConfigError(fmt::format("{}: expected an absolute socket path after unix:// (unix:///run/redis.sock)", where));
  if (query != std::string_view::npos) {
    const auto parameter = rest.substr(query + 1);
    if (!parameter.starts_with("db="))
      throw ConfigError(fmt::format("{}: the only parameter of a unix:// Redis URL is ?db=N", where));
    parsed.db = parse_number(parameter.substr(3), 0, 1000000, where, "a database number");
  }
  return parsed;
}

}  // namespace

RedisUrl parse_redis_url(const std::string& url, const std::string& where) {
  std::string_view rest = url;
  RedisUrl parsed;
  if (rest.starts_with("unix://")) return parse_unix_url(rest.substr(7), where);
  if (rest.starts_with("rediss://")) {
    parsed.tls = true;
    rest.remove_prefix(9);
  } else if (rest.starts_with("redis://")) {
    rest.remove_prefix(8);
  } else {
    throw ConfigError(fmt::format("{}: expected a URL like redis://[user:password@]host[:port][/db], rediss://... "
                                  "(TLS) or unix:///path/to/redis.sock[?db=N] (got another scheme)",
                                  where));
  }
  take_user_info(rest, parsed, where);
  const auto slash = rest.find('/');
  std::string_view host_port = rest.substr(0, slash);
  if (slash != std::string_view::npos && slash + 1 < rest.size())
    parsed.db = parse_number(rest.substr(slash + 1), 0, 1000000, where, "a database number");
  std::string_view port_text;
  if (host_port.starts_with('[')) {  // [IPv6]:port
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) throw ConfigError(fmt::format("{}: unbalanced '[' in the Redis URL", where));
    if (host_port.substr(close + 1).starts_with(':')) port_text = host_port.substr(close + 2);
    host_port = host_port.substr(1, close - 1);
  } else if (const auto colon = host_port.rfind(':'); colon != std::string_view::npos) {
    port_text = host_port.substr(colon + 1);
    host_port = host_port.substr(0, colon);
  }
  if (!port_text.empty()) parsed.port = parse_number(port_text, 1, 65535, where, "a port");
  if (host_port.empty()) throw ConfigError(fmt::format("{}: the Redis URL has no host", where));
  parsed.host = std::string(host_port);
  return parsed;
}

namespace {

void apply_url(const RedisUrl& url, RedisConfig& config) {
  config.tls.enabled = url.tls;
  config.socket_path = url.socket_path;
  if (!url.host.empty()) config.host = url.host;
  config.port = url.port;
  config.db = url.db;
  config.username = url.username;
  config.password = url.password;
}

// An environment URL's parts, except those set by their own variable.
void apply_url_under_env(const RedisUrl& url, const Environment& env, RedisConfig& config) {
  if (!env.get("REDIS_TLS")) config.tls.enabled = url.tls;
  if (!env.get("REDIS_SOCKET_PATH")) config.socket_path = url.socket_path;
  if (!env.get("REDIS_HOST") && !url.host.empty()) config.host = url.host;
  if (!env.get("REDIS_PORT")) config.port = url.port;
  if (!env.get("REDIS_DB")) config.db = url.db;
  if (!env.get("REDIS_USERNAME")) config.username = url.username;
  if (!env.get("REDIS_PASSWORD")) config.password = url.password;
}


// Where a setting's value came from, for its error: the environment variable when that is set, else
// the YAML node's place.
std::string where_set(const ConfigNode& node, const std::string& variable, const Environment& env) {
  return env.get(variable) ? "environment variable " + variable : node.where();
}

// A file named by a setting must be readable now: a typo fails the start, not every connection.
void require_readable(const std::string& path, const ConfigNode& node, const std::string& variable,
                      const Environment& env, const char* what) {
  if (path.empty() || ::access(path.c_str(), R_OK) == 0) return;
  throw ConfigError(fmt::format("{}: expected a readable {} (got '{}': {})", where_set(node, variable, env), what, path,
                                std::strerror(errno)));
}

// verify (ours) or cert_reqs (seed 004's ssl_cert_reqs), one meaning: given both, they must agree.
// "optional" is verified as "required" is: Python's ssl.CERT_OPTIONAL, which redis-py passes on, "has
// the same meaning as CERT_REQUIRED" in client mode (a TLS server always presents a certificate).
void read_verification(SectionReader& r, const ConfigNode& section, const Environment& env, const std::string& prefix,
                       TlsSettings& tls) {
  const auto verify_var = prefix + "_VERIFY", cert_reqs_var = prefix + "_CERT_REQS";
  const auto verify = r.optional_boolean("verify", {.env = verify_var.c_str()});
  const auto cert_reqs =
      r.optional_string("cert_reqs", {.env = cert_reqs_var.c_str(), .one_of = {"required", "optional", "none"}});
  if (verify && cert_reqs && *verify != (*cert_reqs != "none"))
    throw ConfigError(fmt::format("{}: cert_reqs '{}' contradicts verify {} (they say the same thing: give one)",
                                  where_set(section.child("cert_reqs"), cert_reqs_var, env), *cert_reqs, *verify));
  if (cert_reqs) tls.verify = *cert_reqs != "none";
  else if (verify) tls.verify = *verify;
}

// A tls section, its variables named `prefix`_CA_FILE and so on (REDIS_TLS, REDIS_SENTINEL_TLS).
void read_tls(const ConfigNode& section, const Environment& env, EffectiveConfig* effective, const std::string& prefix,
              TlsSettings& tls) {
  SectionReader r(section, env, effective);
  const auto variable = [&](const char* suffix) { return prefix + suffix; };
  const auto enabled_var = variable(""), ca_file_var = variable("_CA_FILE"), ca_dir_var = variable("_CA_DIR"),
             cert_var = variable("_CERT_FILE"), key_var = variable("_KEY_FILE"), name_var = variable("_SERVER_NAME");
  tls.enabled = r.boolean("enabled", tls.enabled, {.env = enabled_var.c_str()});
  tls.ca_file = r.string("ca_file", tls.ca_file, {.env = ca_file_var.c_str()});
  tls.ca_dir = r.string("ca_dir", tls.ca_dir, {.env = ca_dir_var.c_str()});
  tls.cert_file = r.string("cert_file", tls.cert_file, {.env = cert_var.c_str()});
  tls.key_file = r.string("key_file", tls.key_file, {.env = key_var.c_str()});
  read_verification(r, section, env, prefix, tls);
  tls.server_name = r.string("server_name", tls.server_name, {.env = name_var.c_str()});
  r.finish();
  require_readable(tls.ca_file, section.child("ca_file"), ca_file_var, env, "CA certificate file (PEM)");
  require_readable(tls.ca_dir, section.child("ca_dir"), ca_dir_var, env, "CA directory");
  require_readable(tls.cert_file, section.child("cert_file"), cert_var, env, "certificate file (PEM)");
  require_readable(tls.key_file, section.child("key_file"), key_var, env, "private key file (PEM)");
  if (tls.cert_file.empty() != tls.key_file.empty())
    throw ConfigError(fmt::format("{}: cert_file and key_file go together (mutual TLS needs both)", section.where()));
}

// Seed 004's socket_keepalive and socket_keepalive_options (its TCP_KEEPIDLE, TCP_KEEPINTVL and
// TCP_KEEPCNT, by name). Options without keepalive on would be ignored: refused instead.
void read_keepalive(SectionReader& r, const Environment& env, EffectiveConfig* effective, RedisConfig& config) {
  auto& keepalive = config.socket_keepalive;
  keepalive.enabled = r.boolean("socket_keepalive", keepalive.enabled, {.env = "REDIS_SOCKET_KEEPALIVE"});
  const auto options_node = r.section("socket_keepalive_options");
  SectionReader options(options_node, env, effective);
  const auto seconds = [&](const char* key, const char* variable) {
    return static_cast<int>(options.integer(key, 0, {.env = variable, .min = 0, .max = 32767}));
  };
  keepalive.idle_s = seconds("idle", "REDIS_SOCKET_KEEPALIVE_IDLE");
  keepalive.interval_s = seconds("interval", "REDIS_SOCKET_KEEPALIVE_INTERVAL");
  keepalive.count = static_cast<int>(options.integer("count", 0, {.env = "REDIS_SOCKET_KEEPALIVE_COUNT", .min = 0, .max = 127}));
  options.finish();
  const bool options_given = keepalive.idle_s > 0 || keepalive.interval_s > 0 || keepalive.count > 0;
  if (options_given && !keepalive.enabled)
    throw ConfigError(fmt::format("{}: without socket_keepalive: true (REDIS_SOCKET_KEEPALIVE) these options would "
                                  "change nothing",
                                  options_node.defined() ? options_node.where()
                                                         : "environment variables REDIS_SOCKET_KEEPALIVE_*"));
}

void read_sentinel(const ConfigNode& section, const Environment& env, EffectiveConfig* effective, RedisConfig& config) {
  SectionReader r(section, env, effective);
  auto& sentinel = config.sentinel;
  sentinel.nodes = r.string_list("nodes", {.env = "REDIS_SENTINELS"});
  sentinel.master_name = r.string("master_name", sentinel.master_name, {.env = "REDIS_SENTINEL_MASTER"});
  sentinel.username = r.string("username", sentinel.username, {.env = "REDIS_SENTINEL_USERNAME"});
  sentinel.password = r.string("password", sentinel.password, {.env = "REDIS_SENTINEL_PASSWORD", .secret = true});
  read_tls(r.section("tls"), env, effective, "REDIS_SENTINEL_TLS", sentinel.tls);
  r.finish();
  const auto nodes_where = where_set(section.child("nodes"), "REDIS_SENTINELS", env);
  for (const auto& node : sentinel.nodes)
    if (!parse_node_address(node))
      throw ConfigError(fmt::format("{}: expected host:port for each Sentinel (got '{}')", nodes_where, node));
  if (!sentinel.nodes.empty() && sentinel.master_name.empty())
    throw ConfigError(fmt::format("{}: Sentinel needs the master's name (master_name, REDIS_SENTINEL_MASTER)", nodes_where));
  if (!sentinel.nodes.empty() && !config.socket_path.empty())
    throw ConfigError(fmt::format("{}: Sentinel names TCP addresses: drop socket_path", nodes_where));
}

void read_cluster(const ConfigNode& section, const Environment& env, EffectiveConfig* effective, RedisConfig& config) {
  SectionReader r(section, env, effective);
  config.cluster.nodes = r.string_list("nodes", {.env = "REDIS_CLUSTER_NODES"});
  r.finish();
  if (config.cluster.nodes.empty()) return;
  const auto nodes_where = where_set(section.child("nodes"), "REDIS_CLUSTER_NODES", env);
  for (const auto& node : config.cluster.nodes)
    if (!parse_node_address(node))
      throw ConfigError(fmt::format("{}: expected host:port for each cluster node (got '{}')", nodes_where, node));
  if (!config.sentinel.nodes.empty())
    throw ConfigError(fmt::format("{}: a cluster fails over by itself: drop the Sentinel settings", nodes_where));
  if (!config.socket_path.empty())
    throw ConfigError(fmt::format("{}: cluster nodes are TCP addresses: drop socket_path", nodes_where));
  if (config.db != 0)  // a cluster has database 0 only
    throw ConfigError(fmt::format("{}: a cluster has database 0 only (db is {})", nodes_where, config.db));
}

// After the cluster and Sentinel settings: replicas are where those two say.
void read_read_from(const ConfigNode& section, SectionReader& r, const Environment& env, RedisConfig& config) {
  const auto name = r.string("read_from", std::string(name_of(config.read_from)),
                             {.env = "REDIS_READ_FROM", .one_of = {"master", "replica_preferred", "replica"}});
  config.read_from = *read_from_named(name);  // one of those three, checked above
  if (config.read_from != ReadFrom::master && config.cluster.nodes.empty() && config.sentinel.nodes.empty())
    throw ConfigError(fmt::format("{}: '{}' reads from replicas, which only a cluster (cluster.nodes) or "
                                  "Sentinel (sentinel.nodes) names: set one, or read_from master",
                                  where_set(section.child("read_from"), "REDIS_READ_FROM", env), name));
}

}  // namespace

RedisConfig read_redis_config(const ConfigNode& section, const Environment& env, EffectiveConfig* effective) {
  SectionReader r(section, env, effective);
  RedisConfig config;
  config.enabled = r.boolean("enabled", config.enabled, {.env = "ENABLE_REDIS"});
  // The URL provides host, port, db and credentials. Precedence, part by part: REDIS_HOST (etc.) over
  // REDIS_URL over the YAML part over the YAML url over the default, so an environment URL beats the
  // YAML file as every other environment variable does.
  std::optional<RedisUrl> url;
  if (auto text = r.optional_string("url", {.env = "REDIS_URL", .secret = true})) {
    url = parse_redis_url(*text, where_set(section.child("url"), "REDIS_URL", env));
  }
  const bool url_from_env = url && env.get("REDIS_URL");
  if (url && !url_from_env) apply_url(*url, config);
  config.host = r.string("host", config.host, {.env = "REDIS_HOST", .non_empty = true});
  config.port = static_cast<int>(r.integer("port", config.port, {.env = "REDIS_PORT", .min = 1, .max = 65535}));
  config.db = static_cast<int>(r.integer("db", config.db, {.env = "REDIS_DB", .min = 0, .max = 1000000}));
  config.username = r.string("username", config.username, {.env = "REDIS_USERNAME"});
  config.password = r.string("password", config.password, {.env = "REDIS_PASSWORD", .secret = true});
  if (url_from_env) apply_url_under_env(*url, env, config);
  config.max_connections = static_cast<int>(
      r.integer("max_connections", config.max_connections, {.env = "REDIS_MAX_CONNECTIONS", .min = 1, .max = 1024}));
  config.socket_timeout_s =
      r.number("socket_timeout", config.socket_timeout_s, {.env = "REDIS_SOCKET_TIMEOUT", .min = 0.001, .max = 3600});
  config.connect_timeout_s = r.number("socket_connect_timeout", config.connect_timeout_s,
                                      {.env = "REDIS_SOCKET_CONNECT_TIMEOUT", .min = 0.001, .max = 3600});
  config.key_prefix = r.string("key_prefix", config.key_prefix, {.env = "REDIS_KEY_PREFIX"});
  config.default_ttl_s =
      r.integer("default_ttl", config.default_ttl_s, {.env = "REDIS_DEFAULT_TTL", .min = 0, .max = 100LL * 365 * 86400});
  config.health_check_interval_s = r.number("health_check_interval", config.health_check_interval_s,
                                            {.env = "REDIS_HEALTH_CHECK_INTERVAL", .min = 0, .max = 3600});
  if (config.health_check_interval_s > 0 && config.health_check_interval_s < 0.01)  // would round to 0, off
    throw ConfigError(fmt::format("{}: expected 0 (no health checks) or at least 0.01 seconds (got {})",
                                  where_set(section.child("health_check_interval"), "REDIS_HEALTH_CHECK_INTERVAL", env),
                                  config.health_check_interval_s));
  read_keepalive(r, env, effective, config);
  config.client_name = r.string("client_name", config.client_name, {.env = "REDIS_CLIENT_NAME"});
  if (config.client_name.find_first_of(" \r\n") != std::string::npos)
    throw ConfigError(fmt::format("{}: expected a client name without spaces (got '{}')",
                                  section.child("client_name").where(), config.client_name));
  config.encryption_key = r.string("encryption_key", config.encryption_key, {.env = "REDIS_ENCRYPTION_KEY", .secret = true});
  try {
    Keyring::parse(config.encryption_key);
  } catch (const std::invalid_argument& e) {  // the message names the entry, never the key material
    throw ConfigError(fmt::format("{}: {}", where_set(section.child("encryption_key"), "REDIS_ENCRYPTION_KEY", env), e.what()));
  }
  config.codec = r.string("codec", config.codec, {.env = "REDIS_CODEC", .one_of = {"json", "msgpack", "raw"}});
  config.encrypt_values = r.boolean("encrypt_values", config.encrypt_values, {.env = "REDIS_ENCRYPT_VALUES"});
  if (config.encrypt_values && config.encryption_key.empty())  // else every value would be refused at run time
    throw ConfigError(fmt::format("{}: encrypt_values needs an encryption_key (REDIS_ENCRYPTION_KEY)",
                                  where_set(section.child("encrypt_values"), "REDIS_ENCRYPT_VALUES", env)));
  config.socket_path = r.string("socket_path", config.socket_path, {.env = "REDIS_SOCKET_PATH"});
  read_tls(r.section("tls"), env, effective, "REDIS_TLS", config.tls);
  if (config.tls.enabled && !config.socket_path.empty())
    throw ConfigError(fmt::format("{}: TLS over a unix socket is not supported: use one or the other",
                                  section.child("tls").where()));
  read_sentinel(r.section("sentinel"), env, effective, config);
  read_cluster(r.section("cluster"), env, effective, config);
  read_read_from(section, r, env, config);
  SectionReader reconnect(r.section("reconnect"), env, effective);
  config.reconnect_min_s = reconnect.number("min_delay", config.reconnect_min_s, {.min = 0.001, .max = 3600});
  config.reconnect_max_s = reconnect.number("max_delay", config.reconnect_max_s, {.min = 0.001, .max = 3600});
  reconnect.finish();
  if (config.reconnect_max_s < config.reconnect_min_s)
    throw ConfigError(fmt::format("{}: max_delay must not be below min_delay", section.child("reconnect").where()));
  SectionReader fallback(r.section("fallback_cache"), env, effective);
  auto& limits = config.fallback_cache;
  limits.max_entries = fallback.integer("max_entries", limits.max_entries,
                                        {.env = "REDIS_FALLBACK_CACHE_MAX_ENTRIES", .min = 0, .max = 100'000'000});
  limits.max_bytes = fallback.integer("max_bytes", limits.max_bytes,
                                      {.env = "REDIS_FALLBACK_CACHE_MAX_BYTES", .min = 1024, .max = 1LL << 40});
  limits.max_age_s = fallback.number("max_age", limits.max_age_s, {.env = "REDIS_FALLBACK_CACHE_MAX_AGE", .min = 0.001, .max = 86400});
  fallback.finish();
  r.finish();
  return config;
}

const std::vector<std::string>& redis_env_vars() {
  static const std::vector<std::string> names{
      "ENABLE_REDIS",          "REDIS_URL",      "REDIS_HOST",       "REDIS_PORT",
      "REDIS_DB",              "REDIS_USERNAME", "REDIS_PASSWORD",   "REDIS_MAX_CONNECTIONS",
      "REDIS_SOCKET_TIMEOUT",  "REDIS_SOCKET_CONNECT_TIMEOUT",       "REDIS_KEY_PREFIX",
      "REDIS_DEFAULT_TTL",     "REDIS_HEALTH_CHECK_INTERVAL",        "REDIS_CLIENT_NAME",
      "REDIS_ENCRYPTION_KEY",  "REDIS_ENCRYPT_VALUES",               "REDIS_CODEC",
      "REDIS_SOCKET_PATH",     "REDIS_TLS",      "REDIS_TLS_CA_FILE", "REDIS_TLS_CA_DIR",
      "REDIS_TLS_CERT_FILE",   "REDIS_TLS_KEY_FILE",                 "REDIS_TLS_VERIFY",
      "REDIS_TLS_SERVER_NAME", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_USERNAME",
      "REDIS_SENTINEL_PASSWORD", "REDIS_SENTINEL_TLS", "REDIS_SENTINEL_TLS_CA_FILE", "REDIS_SENTINEL_TLS_CA_DIR",
      "REDIS_SENTINEL_TLS_CERT_FILE", "REDIS_SENTINEL_TLS_KEY_FILE", "REDIS_SENTINEL_TLS_VERIFY",
      "REDIS_SENTINEL_TLS_SERVER_NAME", "REDIS_CLUSTER_NODES", "REDIS_READ_FROM", "REDIS_FALLBACK_CACHE_MAX_ENTRIES",
      "REDIS_FALLBACK_CACHE_MAX_BYTES", "REDIS_FALLBACK_CACHE_MAX_AGE", "REDIS_TLS_CERT_REQS",
      "REDIS_SENTINEL_TLS_CERT_REQS", "REDIS_SOCKET_KEEPALIVE", "REDIS_SOCKET_KEEPALIVE_IDLE",
      "REDIS_SOCKET_KEEPALIVE_INTERVAL", "REDIS_SOCKET_KEEPALIVE_COUNT"};
  return names;
}

RedisConfig redis_config_from_environment() {
  load_dotenv(".env");  // variables already set win, as when the app reads it
  return read_redis_config(ConfigNode(), Environment::from_process());
}

}  // namespace routemq::redis
