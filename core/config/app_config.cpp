#include "core/config/app_config.hpp"

#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "core/config/text.hpp"

namespace routemq {
namespace {

constexpr auto env_vars = {"APP_NAME", "APP_WORKERS", "APP_MAX_IN_FLIGHT", "APP_SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_FORMAT",
                           "MQTT_BROKER", "MQTT_PORT", "MQTT_CLIENT_ID", "MQTT_USERNAME", "MQTT_PASSWORD",
                           "MQTT_VERSION", "MQTT_GROUP_NAME", "MQTT_KEEPALIVE", "MQTT_TLS_ENABLED",
                           "MQTT_TLS_CA_FILE", "MQTT_TLS_CERT_FILE", "MQTT_TLS_KEY_FILE", "MQTT_TLS_VERIFY",
                           "MQTT_CLIENT", "MQTT_MAX_MESSAGE_BYTES", "APP_MAX_IN_FLIGHT_BYTES", "METRICS_ENABLED", "METRICS_HOST", "METRICS_PORT"};

// Unique per process, so two instances never kick each other off the broker: name-host-pid-random.
std::string generated_client_id(const std::string& app_name) {
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  return fmt::format("{}-{}-{}-{:06x}", app_name, host, ::getpid(), random() & 0xffffff);
}

AppSection read_app(const ConfigNode& node, const Environment& env, EffectiveConfig& effective) {
  SectionReader r(node, env, &effective);
  AppSection app;
  app.name = r.string("name", app.name, {.env = "APP_NAME", .non_empty = true});
  app.workers = static_cast<int>(r.integer("workers", app.workers, {.env = "APP_WORKERS", .min = 1, .max = 256}));
  app.max_in_flight = static_cast<int>(
      r.integer("max_in_flight", app.max_in_flight, {.env = "APP_MAX_IN_FLIGHT", .min = 1, .max = 1'000'000}));
  // Bytes too: max_in_flight bounds messages, and 30 messages of 20 MB each are 600 MB.
  app.max_in_flight_bytes = r.integer("max_in_flight_bytes", app.max_in_flight_bytes,
                                      {.env = "APP_MAX_IN_FLIGHT_BYTES", .min = 1024, .max = 1LL << 40});
  app.shutdown_timeout_s =
      r.number("shutdown_timeout", app.shutdown_timeout_s, {.env = "APP_SHUTDOWN_TIMEOUT", .min = 0, .max = 3600});
  app.log_level = r.string("log_level", app.log_level,
                           {.env = "LOG_LEVEL", .one_of = {"trace", "debug", "info", "warn", "error", "critical", "off"}});
  app.log_format = r.string("log_format", app.log_format, {.env = "LOG_FORMAT", .one_of = {"text", "json"}});
  // Above 1000 levels, copying or dumping a payload could exhaust a worker's stack again.
  app.max_json_depth = static_cast<int>(
      r.integer("max_json_depth", app.max_json_depth, {.env = "APP_MAX_JSON_DEPTH", .min = 1, .max = 1000}));
  r.finish();
  return app;
}

MetricsSection read_metrics(const ConfigNode& node, const Environment& env, EffectiveConfig& effective) {
  SectionReader r(node, env, &effective);
  MetricsSection metrics;
  metrics.enabled = r.boolean("enabled", metrics.enabled, {.env = "METRICS_ENABLED"});
  metrics.host = r.string("host", metrics.host, {.env = "METRICS_HOST", .non_empty = true});
  metrics.port = static_cast<int>(r.integer("port", metrics.port, {.env = "METRICS_PORT", .min = 0, .max = 65535}));
  r.finish();
  return metrics;
}

TlsConfig read_tls(const ConfigNode& node, const Environment& env, EffectiveConfig& effective) {
  SectionReader r(node, env, &effective);
  TlsConfig tls;
  tls.enabled = r.boolean("enabled", tls.enabled, {.env = "MQTT_TLS_ENABLED"});
  tls.ca_file = r.string("ca_file", "", {.env = "MQTT_TLS_CA_FILE"});
  tls.cert_file = r.string("cert_file", "", {.env = "MQTT_TLS_CERT_FILE"});
  tls.key_file = r.string("key_file", "", {.env = "MQTT_TLS_KEY_FILE"});
  tls.verify_peer = r.boolean("verify", tls.verify_peer, {.env = "MQTT_TLS_VERIFY"});
  r.finish();
  return tls;
}

void read_reconnect(const ConfigNode& node, const Environment& env, EffectiveConfig& effective, MqttConfig& mqtt) {
  SectionReader r(node, env, &effective);
  mqtt.reconnect_min_s = r.number("min_delay", mqtt.reconnect_min_s, {.min = 0.01, .max = 3600});
  mqtt.reconnect_max_s = r.number("max_delay", mqtt.reconnect_max_s, {.min = 0.01, .max = 3600});
  r.finish();
  if (mqtt.reconnect_max_s < mqtt.reconnect_min_s)
    throw ConfigError(fmt::format("{}: max_delay ({}) must not be below min_delay ({})", node.where(),
                                  mqtt.reconnect_max_s, mqtt.reconnect_min_s));
}

WillConfig read_will(const ConfigNode& node, const Environment& env, EffectiveConfig& effective) {
  SectionReader r(node, env, &effective);
  WillConfig will;
  will.topic = r.string("topic", "", {.env = "MQTT_WILL_TOPIC"});
  if (will.topic.find_first_of("+#") != std::string::npos)
    throw ConfigError(fmt::format("{}: expected a topic without wildcards (got '{}')", node.child("topic").where(), will.topic));
  will.payload = r.string("payload", will.payload);
  will.online_payload = r.string("online_payload", will.online_payload);
  will.qos = static_cast<int>(r.integer("qos", will.qos, {.min = 0, .max = 2}));
  will.retain = r.boolean("retain", will.retain);
  r.finish();
  return will;
}

MqttConfig read_mqtt(const ConfigNode& node, const Environment& env, EffectiveConfig& effective,
                     const std::string& app_name) {
  SectionReader r(node, env, &effective);
  MqttConfig mqtt;
  mqtt.client = r.string("client", mqtt.client, {.env = "MQTT_CLIENT", .one_of = {"native", "paho"}});
  mqtt.broker = r.string("broker", mqtt.broker, {.env = "MQTT_BROKER", .non_empty = true});
  mqtt.port = static_cast<int>(r.integer("port", mqtt.port, {.env = "MQTT_PORT", .min = 1, .max = 65535}));
  const auto explicit_id = r.optional_string("client_id", {.env = "MQTT_CLIENT_ID"});
  if (explicit_id && !explicit_id->empty()) {
    mqtt.client_id = *explicit_id;
  } else {
    mqtt.client_id = generated_client_id(app_name);
    effective.record({"mqtt.client_id", mqtt.client_id, ValueSource::generated, ""});
  }
  mqtt.username = r.string("username", "", {.env = "MQTT_USERNAME"});
  mqtt.password = r.string("password", "", {.env = "MQTT_PASSWORD", .secret = true});
  mqtt.version = static_cast<int>(r.string("version", "5", {.env = "MQTT_VERSION", .one_of = {"3", "5"}}) == "5" ? 5 : 3);
  mqtt.group_name = r.string("group_name", mqtt.group_name, {.env = "MQTT_GROUP_NAME", .non_empty = true});
  if (mqtt.group_name.find_first_of("/+#") != std::string::npos)
    throw ConfigError(fmt::format("{}: expected a shared-subscription group name without '/', '+' or '#' (got '{}')",
                                  node.child("group_name").where(), mqtt.group_name));
  mqtt.keepalive_s = static_cast<int>(r.integer("keepalive", mqtt.keepalive_s, {.env = "MQTT_KEEPALIVE", .min = 1, .max = 65535}));
  mqtt.clean_start = r.boolean("clean_start", mqtt.clean_start, {.env = "MQTT_CLEAN_START"});
  if (!mqtt.clean_start && !(explicit_id && !explicit_id->empty()))
    throw ConfigError(fmt::format(
        "{}: false needs a stable mqtt.client_id (MQTT_CLIENT_ID), e.g. \"${{APP_NAME}}-${{HOSTNAME}}\": the session "
        "belongs to the client id, and a generated one changes with every start",
        node.child("clean_start").where()));
  mqtt.session_expiry_s = static_cast<int>(
      r.integer("session_expiry", mqtt.session_expiry_s, {.env = "MQTT_SESSION_EXPIRY", .min = 0, .max = 4294967295LL}));
  mqtt.will = read_will(r.section("will"), env, effective);
  mqtt.max_buffered = static_cast<int>(r.integer("max_buffered", mqtt.max_buffered, {.min = 1, .max = 10'000'000}));
  // Up to the protocol's largest packet (268,435,455 bytes of remaining length, 1.5.5).
  mqtt.max_message_bytes = r.integer("max_message_bytes", mqtt.max_message_bytes,
                                     {.env = "MQTT_MAX_MESSAGE_BYTES", .min = 1024, .max = 268'435'455});
  read_reconnect(r.section("reconnect"), env, effective, mqtt);
  mqtt.tls = read_tls(r.section("tls"), env, effective);
  r.finish();
  return mqtt;
}

// `- name` or `- name: {options}` (options may also be empty: `- name:`).
MiddlewareSpec read_middleware_spec(const ConfigNode& item) {
  if (item.is_scalar() && !item.scalar().empty()) return {item.scalar(), ConfigNode(YAML::Node(), item.path(), item.location())};
  if (item.is_map() && item.size() == 1) {
    const std::string name = item.yaml().begin()->first.as<std::string>();
    ConfigNode options = item.child(name);
    if (options.defined() && !options.is_map())
      throw ConfigError(fmt::format("{}: expected the options of middleware '{}' as a mapping (got {})",
                                    options.where(), name, options.kind()));
    return {name, options};
  }
  throw ConfigError(fmt::format("{}: expected a middleware name, or a mapping of one name to its options (got {})",
                                item.where(), item.kind()));
}

std::vector<MiddlewareSpec> read_middleware_list(const ConfigNode& node, EffectiveConfig& effective) {
  std::vector<MiddlewareSpec> specs;
  if (!node.defined()) return specs;
  if (!node.is_sequence())
    throw ConfigError(fmt::format("{}: expected a list of middleware (got {})", node.where(), node.kind()));
  std::vector<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    specs.push_back(read_middleware_spec(node.element(i)));
    names.push_back(specs.back().name);
  }
  effective.record({node.path(), fmt::format("[{}]", join(names, ", ")), ValueSource::yaml, ""});
  return specs;
}

RouteConfig read_route(const std::string& name, const ConfigNode& node, const Environment& env,
                       EffectiveConfig& effective) {
  SectionReader r(node, env, &effective);
  RouteConfig route;
  route.name = name;
  route.node = node;
  route.enabled = r.boolean("enabled", true);
  if (auto qos = r.optional_integer("qos", {.min = 0, .max = 2})) route.qos = static_cast<int>(*qos);
  route.shared = r.optional_boolean("shared");
  route.ordered = r.optional_string("ordered", {.non_empty = true});  // checked against the route's pattern at build
  route.middleware = read_middleware_list(r.raw("middleware"), effective);
  r.finish();
  return route;
}

std::map<std::string, RouteConfig> read_routes(const ConfigNode& node, const Environment& env,
                                               EffectiveConfig& effective) {
  std::map<std::string, RouteConfig> routes;
  if (!node.defined()) return routes;
  for (const auto& entry : node.yaml()) {
    const std::string name = entry.first.as<std::string>();
    routes.emplace(name, read_route(name, node.child(name), env, effective));
  }
  return routes;
}

// YAML allows a key twice in one mapping, and yaml-cpp reads the first: `{lease: 5, lease: 0.4}` would
// run with 5 and say nothing. Refused instead, located at the second.
void refuse_repeated_keys(const YAML::Node& node, const std::string& file_name) {
  if (node.IsSequence()) {
    for (const auto& item : node) refuse_repeated_keys(item, file_name);
    return;
  }
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (entry.first.IsScalar() && !seen.insert(entry.first.Scalar()).second)
      throw ConfigError(fmt::format("{}:{}:{}: '{}' appears twice in the same mapping (expected each key once)",
                                    file_name, entry.first.Mark().line + 1, entry.first.Mark().column + 1,
                                    entry.first.Scalar()));
    refuse_repeated_keys(entry.second, file_name);
  }
}

YAML::Node parse_yaml(const std::string& yaml, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid YAML: {}", file_name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  refuse_repeated_keys(root, file_name);
  return root;
}

}  // namespace

AppConfig load_app_config_text(const std::string& yaml, const std::string& file_name, const Environment& environment,
                               const std::set<std::string>& plugin_sections) {
  ConfigNode root(parse_yaml(yaml, file_name), "", Location{file_name, 0, 0});
  AppConfig config;
  config.file = file_name;
  SectionReader top(root, environment, &config.effective);
  config.app = read_app(top.section("app"), environment, config.effective);
  config.mqtt = read_mqtt(top.section("mqtt"), environment, config.effective, config.app.name);
  config.metrics = read_metrics(top.section("metrics"), environment, config.effective);
  config.global_middleware = read_middleware_list(top.raw("middleware"), config.effective);
  config.routes = read_routes(top.section("routes"), environment, config.effective);
  for (const auto& plugin : plugin_sections) {
    ConfigNode section = top.section(plugin);
    if (section.defined()) config.plugins.emplace(plugin, section);
  }
  top.finish();
  return config;
}

AppConfig load_app_config(const std::filesystem::path& file, const Environment& environment,
                          const std::set<std::string>& plugin_sections) {
  std::ifstream in(file);
  if (!in) throw ConfigError(fmt::format("{}: cannot read the config file (does it exist?)", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return load_app_config_text(text.str(), file.string(), environment, plugin_sections);
}

const std::vector<std::string>& framework_env_vars() {
  static const std::vector<std::string> names(env_vars.begin(), env_vars.end());
  return names;
}

}  // namespace routemq
