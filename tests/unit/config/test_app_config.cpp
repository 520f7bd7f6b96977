#include <catch2/catch.hpp>

#include "core/config/app_config.hpp"
#include "core/config/config_error.hpp"

using namespace routemq;

namespace {
AppConfig load(const std::string& yaml, std::map<std::string, std::string> env = {},
               std::set<std::string> plugins = {}) {
  return load_app_config_text(yaml, "app.yaml", Environment(env), plugins);
}
}  // namespace

TEST_CASE("an empty file gives safe defaults") {
  const auto config = load("");
  CHECK(config.app.name == "routemq");
  CHECK(config.app.workers == 2);
  CHECK(config.app.max_in_flight == 1000);
  CHECK(config.app.max_json_depth == 128);
  CHECK(config.app.log_level == "info");
  CHECK(config.mqtt.broker == "localhost");
  CHECK(config.mqtt.port == 1883);
  CHECK(config.mqtt.version == 5);
  CHECK(config.mqtt.group_name == "routemq");
  CHECK_FALSE(config.mqtt.tls.enabled);
  CHECK(config.mqtt.tls.verify_peer);
  CHECK(config.global_middleware.empty());
  CHECK(config.routes.empty());
}

TEST_CASE("client ids are unique per load unless set") {
  const auto a = load("");
  const auto b = load("");
  CHECK(a.mqtt.client_id.starts_with("routemq-"));
  CHECK(a.mqtt.client_id != b.mqtt.client_id);
  CHECK(load("mqtt: {client_id: fixed}").mqtt.client_id == "fixed");
  CHECK(load("", {{"MQTT_CLIENT_ID", "from-env"}}).mqtt.client_id == "from-env");
}

TEST_CASE("YAML values are read, with interpolation") {
  const auto config = load(
      "app:\n  name: svc\n  workers: 4\n  shutdown_timeout: 2.5\n  log_level: debug\n"
      "mqtt:\n  broker: ${BROKER:-fallback}\n  port: ${PORT}\n  version: 3\n  keepalive: 10\n"
      "  reconnect: {min_delay: 0.2, max_delay: 5}\n  tls: {enabled: yes, ca_file: /ca.pem, verify: off}\n",
      {{"PORT", "1999"}});
  CHECK(config.app.name == "svc");
  CHECK(config.app.workers == 4);
  CHECK(config.app.shutdown_timeout_s == 2.5);
  CHECK(config.app.log_level == "debug");
  CHECK(config.mqtt.broker == "fallback");
  CHECK(config.mqtt.port == 1999);
  CHECK(config.mqtt.version == 3);
  CHECK(config.mqtt.keepalive_s == 10);
  CHECK(config.mqtt.reconnect_min_s == 0.2);
  CHECK(config.mqtt.reconnect_max_s == 5);
  CHECK(config.mqtt.tls.enabled);
  CHECK(config.mqtt.tls.ca_file == "/ca.pem");
  CHECK_FALSE(config.mqtt.tls.verify_peer);
}

TEST_CASE("environment variables override YAML, which overrides defaults") {
  const std::string yaml = "mqtt:\n  broker: yaml-host\n  port: 1000\n  username: yaml-user\n";
  const auto config = load(yaml, {{"MQTT_BROKER", "env-host"}, {"MQTT_USERNAME", "env-user"},
                                  {"MQTT_PASSWORD", "s3cret"}, {"MQTT_GROUP_NAME", "workers"},
                                  {"MQTT_TLS_ENABLED", "true"}, {"MQTT_TLS_CA_FILE", "/env/ca.pem"},
                                  {"APP_WORKERS", "8"}, {"LOG_LEVEL", "warn"}, {"MQTT_VERSION", "3"}});
  CHECK(config.mqtt.broker == "env-host");
  CHECK(config.mqtt.port == 1000);  // YAML, no env
  CHECK(config.mqtt.username == "env-user");
  CHECK(config.mqtt.password == "s3cret");
  CHECK(config.mqtt.group_name == "workers");
  CHECK(config.mqtt.tls.enabled);
  CHECK(config.mqtt.tls.ca_file == "/env/ca.pem");
  CHECK(config.app.workers == 8);
  CHECK(config.app.log_level == "warn");
  CHECK(config.mqtt.version == 3);
  // An empty variable counts as unset.
  CHECK(load(yaml, {{"MQTT_BROKER", ""}}).mqtt.broker == "yaml-host");
}

TEST_CASE("the MQTT client, the largest message and the bytes in flight: defaults, YAML, environment, errors") {
  const auto defaults = load("");
  CHECK(defaults.mqtt.client == "native");
  CHECK(defaults.mqtt.max_message_bytes == 1 << 20);
  CHECK(defaults.app.max_in_flight_bytes == 64LL << 20);
  const auto yaml = load("app:\n  max_in_flight_bytes: 1048576\nmqtt:\n  client: paho\n  max_message_bytes: 4096\n");
  CHECK(yaml.mqtt.client == "paho");
  CHECK(yaml.mqtt.max_message_bytes == 4096);
  CHECK(yaml.app.max_in_flight_bytes == 1 << 20);
  const auto env = load("", {{"MQTT_CLIENT", "paho"}, {"MQTT_MAX_MESSAGE_BYTES", "2048"}, {"APP_MAX_IN_FLIGHT_BYTES", "4096"}});
  CHECK(env.mqtt.client == "paho");
  CHECK(env.mqtt.max_message_bytes == 2048);
  CHECK(env.app.max_in_flight_bytes == 4096);
  CHECK_THROWS_WITH(load("mqtt:\n  client: mosquitto\n"), Catch::Contains("app.yaml:2:11: mqtt.client"));
  CHECK_THROWS_WITH(load("mqtt:\n  max_message_bytes: 10\n"), Catch::Contains("mqtt.max_message_bytes"));
  CHECK_THROWS_WITH(load("", {{"MQTT_MAX_MESSAGE_BYTES", "268435456"}}), Catch::Contains("MQTT_MAX_MESSAGE_BYTES"));
}

TEST_CASE("the effective config says where values came from and never shows secrets") {
  const auto config = load("mqtt:\n  port: 1000\n  password: yaml-secret\n", {{"MQTT_BROKER", "env-host"}});
  const auto text = config.effective.to_yaml_like_text();
  CHECK_THAT(text, Catch::Contains("mqtt:\n"));
  CHECK_THAT(text, Catch::Contains("  broker: env-host  # env MQTT_BROKER"));
  CHECK_THAT(text, Catch::Contains("  port: 1000  # yaml"));
  CHECK_THAT(text, Catch::Contains("  keepalive: 30  # default"));
  CHECK_THAT(text, Catch::Contains("  password: \"***\"  # yaml"));
  CHECK_THAT(text, Catch::Contains("  client_id: routemq-"));
  CHECK_THAT(text, !Catch::Contains("yaml-secret"));
  const auto from_env = load("", {{"MQTT_PASSWORD", "env-secret"}}).effective.to_yaml_like_text();
  CHECK_THAT(from_env, !Catch::Contains("env-secret"));
}

TEST_CASE("middleware and route sections") {
  const auto config = load(
      "middleware:\n  - logger\n  - limit: {rate: 5}\n"
      "routes:\n  telemetry:\n    qos: 1\n    shared: false\n    middleware:\n      - dedupe: {window: 60}\n"
      "  off: {enabled: false}\n");
  REQUIRE(config.global_middleware.size() == 2);
  CHECK(config.global_middleware[0].name == "logger");
  CHECK_FALSE(config.global_middleware[0].options.defined());
  CHECK(config.global_middleware[1].name == "limit");
  CHECK(config.global_middleware[1].options.child("rate").scalar() == "5");
  CHECK(config.global_middleware[1].options.path() == "middleware[1].limit");
  REQUIRE(config.routes.size() == 2);
  const auto& telemetry = config.routes.at("telemetry");
  CHECK(telemetry.enabled);
  CHECK(telemetry.qos == 1);
  CHECK(telemetry.shared == false);
  REQUIRE(telemetry.middleware.size() == 1);
  CHECK(telemetry.middleware[0].name == "dedupe");
  CHECK_FALSE(config.routes.at("off").enabled);
  CHECK_FALSE(config.routes.at("off").qos.has_value());
}

TEST_CASE("plugin sections are accepted only for registered plugins") {
  const std::string yaml = "redis:\n  host: r\n";
  const auto config = load(yaml, {}, {"redis"});
  REQUIRE(config.plugins.count("redis") == 1);
  CHECK(config.plugins.at("redis").child("host").scalar() == "r");
  CHECK(load("", {}, {"redis"}).plugins.empty());
  CHECK_THROWS_MATCHES(load(yaml), ConfigError,
                       Catch::Matchers::Message("app.yaml:1:1: redis: unknown key (known keys: app, mqtt, metrics, middleware, "
                                                "routes)"));
}

TEST_CASE("YAML errors name file, line, column, key, value and expectation") {
  using Catch::Matchers::Message;
  CHECK_THROWS_MATCHES(load("mqtt:\n  port: abc\n"), ConfigError,
                       Message("app.yaml:2:9: mqtt.port: expected an integer between 1 and 65535 (got 'abc')"));
  CHECK_THROWS_MATCHES(load("mqtt:\n  port: 70000\n"), ConfigError,
                       Message("app.yaml:2:9: mqtt.port: expected an integer between 1 and 65535 (got '70000')"));
  CHECK_THROWS_MATCHES(load("mqtt:\n  prot: 1\n"), ConfigError,
                       Message("app.yaml:2:3: mqtt.prot: unknown key (did you mean 'port'? known keys: client, broker, "
                               "port, client_id, username, password, version, group_name, keepalive, clean_start, "
                               "session_expiry, will, max_buffered, max_message_bytes, reconnect, tls)"));
  CHECK_THROWS_WITH(load("app:\n  workers: 0\n"), Catch::Contains("app.yaml:2:12: app.workers: expected an integer between 1 and 256 (got '0')"));
  CHECK_THROWS_WITH(load("app:\n  max_json_depth: 5000\n"),
                    Catch::Contains("app.yaml:2:19: app.max_json_depth: expected an integer between 1 and 1000 (got '5000')"));
  CHECK(load("", {{"APP_MAX_JSON_DEPTH", "32"}}).app.max_json_depth == 32);
  CHECK_THROWS_WITH(load("app:\n  log_level: loud\n"),
                    Catch::Contains("app.log_level: expected one of: trace, debug, info, warn, error, critical, off (got 'loud')"));
  CHECK_THROWS_WITH(load("mqtt:\n  version: 4\n"), Catch::Contains("mqtt.version: expected one of: 3, 5 (got '4')"));
  CHECK_THROWS_WITH(load("mqtt:\n  tls:\n    enabled: maybe\n"),
                    Catch::Contains("app.yaml:3:14: mqtt.tls.enabled: expected a boolean"));
  CHECK_THROWS_WITH(load("mqtt:\n  reconnect: {min_delay: 5, max_delay: 1}\n"),
                    Catch::Contains("max_delay (1) must not be below min_delay (5)"));
  CHECK_THROWS_WITH(load("mqtt:\n  broker: [a, b]\n"),
                    Catch::Contains("app.yaml:2:11: mqtt.broker: expected a single value (got a list)"));
  CHECK_THROWS_WITH(load("mqtt: 5\n"), Catch::Contains("app.yaml:1:7: mqtt: expected a mapping of keys (got a value)"));
  CHECK_THROWS_WITH(load("- a\n- b\n"), Catch::Contains("expected a mapping of keys (got a list)"));
  CHECK_THROWS_WITH(load("mqtt:\n  broker: \"\"\n"), Catch::Contains("mqtt.broker: expected a non-empty string"));
  CHECK_THROWS_WITH(load("mqtt:\n  group_name: a/b\n"), Catch::Contains("mqtt.group_name: expected a shared-subscription group"));
  CHECK_THROWS_WITH(load("mqtt:\n  broker: ${UNSET_HOST}\n"),
                    Catch::Contains("app.yaml:2:11: mqtt.broker: environment variable UNSET_HOST is not set"));
  CHECK_THROWS_WITH(load("mqtt: {port: [1\n"), Catch::Contains("app.yaml:") && Catch::Contains("invalid YAML"));
  // A key twice: YAML would read the first and say nothing.
  CHECK_THROWS_WITH(load("mqtt:\n  port: 1883\n  port: 1884\n"),
                    Catch::Contains("app.yaml:3:3: 'port' appears twice in the same mapping"));
  CHECK_THROWS_WITH(load("routes:\n  r:\n    middleware:\n      - dedupe: {id: \"{n}\", lease: 5, lease: 0.4}\n"),
                    Catch::Contains("app.yaml:4:39: 'lease' appears twice"));
}

TEST_CASE("route and middleware errors are located") {
  CHECK_THROWS_WITH(load("routes:\n  a: {qos: 3}\n"),
                    Catch::Contains("app.yaml:2:12: routes.a.qos: expected an integer between 0 and 2 (got '3')"));
  CHECK_THROWS_WITH(load("routes:\n  a: {qso: 1}\n"),
                    Catch::Contains("routes.a.qso: unknown key (did you mean 'qos'?"));
  CHECK_THROWS_WITH(load("routes:\n  a: yes\n"), Catch::Contains("routes.a: expected a mapping of keys"));
  CHECK_THROWS_WITH(load("middleware: logger\n"), Catch::Contains("middleware: expected a list of middleware"));
  CHECK_THROWS_WITH(load("middleware:\n  - {a: 1, b: 2}\n"),
                    Catch::Contains("app.yaml:2:5: middleware[0]: expected a middleware name, or a mapping"));
  CHECK_THROWS_WITH(load("middleware:\n  - limit: 5\n"),
                    Catch::Contains("middleware[0].limit: expected the options of middleware 'limit' as a mapping"));
}

TEST_CASE("malformed environment values are errors naming the variable") {
  using Catch::Matchers::Message;
  CHECK_THROWS_MATCHES(load("", {{"MQTT_PORT", "abc"}}), ConfigError,
                       Message("environment variable MQTT_PORT='abc': expected an integer between 1 and 65535 "
                               "(overrides mqtt.port)"));
  CHECK_THROWS_WITH(load("", {{"MQTT_TLS_VERIFY", "sometimes"}}),
                    Catch::Contains("environment variable MQTT_TLS_VERIFY='sometimes': expected a boolean"));
  CHECK_THROWS_WITH(load("", {{"APP_SHUTDOWN_TIMEOUT", "-1"}}),
                    Catch::Contains("environment variable APP_SHUTDOWN_TIMEOUT='-1': expected a number between 0 and 3600"));
  CHECK_THROWS_WITH(load("", {{"MQTT_VERSION", "3.1"}}), Catch::Contains("MQTT_VERSION='3.1': expected one of: 3, 5"));
}

TEST_CASE("a missing config file is a clear error") {
  CHECK_THROWS_WITH(load_app_config("/nonexistent/app.yaml", Environment(), {}),
                    Catch::Contains("/nonexistent/app.yaml: cannot read the config file"));
}

TEST_CASE("framework_env_vars lists what the core reads") {
  const auto& vars = framework_env_vars();
  for (const char* name : {"MQTT_BROKER", "MQTT_PORT", "MQTT_USERNAME", "MQTT_PASSWORD", "MQTT_CLIENT_ID",
                           "MQTT_GROUP_NAME", "MQTT_TLS_ENABLED", "MQTT_TLS_CA_FILE", "LOG_LEVEL"})
    CHECK(std::find(vars.begin(), vars.end(), name) != vars.end());
}
