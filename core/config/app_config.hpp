#pragma once
// The service's configuration: config/app.yaml, overridden by environment variables, validated in full
// before anything starts. Every error is a ConfigError naming file:line:column, key, value and expectation.
//
//   app:        name, workers, max_in_flight, max_in_flight_bytes, shutdown_timeout, log_level, log_format, max_json_depth
//   mqtt:       client, broker, port, client_id, username, password, version, group_name, keepalive, clean_start,
//               session_expiry, max_message_bytes, max_buffered, reconnect: {min_delay, max_delay},
//               tls: {enabled, ca_file, cert_file, key_file, verify}, will: {topic, payload, online_payload, qos, retain}
//   metrics:    enabled, host, port: the HTTP endpoint for /metrics, /health and /ready
//   middleware: global middleware, in order: `- name` or `- name: {options}`
//   routes:     per route name: enabled, qos, shared, middleware
//   <plugin>:   one section per plugin the service registers (e.g. `cache:`), read by that plugin
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config/config_node.hpp"
#include "core/config/effective_config.hpp"
#include "core/config/environment.hpp"

namespace routemq {

struct TlsConfig {
  bool enabled = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool verify_peer = true;
};

// What the broker publishes when the instance dies without saying goodbye, and what the instance
// publishes on the same topic on every connect (and, on a clean stop, the will itself): a status topic
// that says whether it lives.
struct WillConfig {
  std::string topic;  // empty: no will
  std::string payload = "offline";
  std::string online_payload = "online";
  int qos = 1;
  bool retain = true;
};

struct MqttConfig {
  // native: our own client on the app's io_context, acknowledging a message once it was handled
  // (core/mqtt/native_client.hpp); paho: Eclipse Paho, which acknowledges on arrival.
  std::string client = "native";
  std::string broker = "localhost";
  int port = 1883;
  std::string client_id;  // generated unique per process when not set
  std::string username;
  std::string password;
  int version = 5;  // 5, or 3 for MQTT 3.1.1
  std::string group_name = "routemq";
  int keepalive_s = 30;
  bool clean_start = true;     // false: the broker keeps the session (needs a stable client_id)
  int session_expiry_s = 3600;  // MQTT 5, with clean_start false: how long the broker keeps it offline
  WillConfig will;
  double reconnect_min_s = 0.5;
  double reconnect_max_s = 30;
  // The largest message taken from the broker: our Maximum Packet Size (MQTT 5: the broker drops larger
  // ones for us); larger ones are read past, refused, logged and counted (native client).
  std::int64_t max_message_bytes = 1 << 20;
  int max_buffered = 100000;  // publishes waiting to be sent (disconnected, or a slow broker); more are dropped and counted
  TlsConfig tls;
};

// One middleware to create by name; options may be undefined (all defaults).
struct MiddlewareSpec {
  std::string name;
  ConfigNode options;
};

struct RouteConfig {
  std::string name;
  bool enabled = true;
  std::optional<int> qos;
  std::optional<bool> shared;
  std::optional<std::string> ordered;  // "true", "false" or an order key template, as written
  std::vector<MiddlewareSpec> middleware;
  ConfigNode node;
};

struct AppSection {
  std::string name = "routemq";
  int workers = 2;
  int max_in_flight = 1000;
  std::int64_t max_in_flight_bytes = 64LL << 20;  // and their payloads' bytes
  double shutdown_timeout_s = 10;
  std::string log_level = "info";
  std::string log_format = "text";  // text, or json (one object per line)
  int max_json_depth = 128;          // JSON payloads nested deeper are invalid (core/json/bounded_json.hpp)
};

// The operations endpoint: Prometheus /metrics, /health (alive) and /ready.
struct MetricsSection {
  bool enabled = false;
  std::string host = "127.0.0.1";  // 0.0.0.0 in a container, so the orchestrator can reach it
  int port = 9100;                 // 0: any free port (logged)
};

struct AppConfig {
  std::string file;
  AppSection app;
  MqttConfig mqtt;
  MetricsSection metrics;
  std::vector<MiddlewareSpec> global_middleware;
  std::map<std::string, RouteConfig> routes;
  std::map<std::string, ConfigNode> plugins;  // sections named after registered plugins, as written
  EffectiveConfig effective;
};

// `plugin_sections` are the top-level keys plugins own; any other unknown top-level key is an error.
AppConfig load_app_config(const std::filesystem::path& file, const Environment& environment,
                          const std::set<std::string>& plugin_sections);
AppConfig load_app_config_text(const std::string& yaml, const std::string& file_name, const Environment& environment,
                               const std::set<std::string>& plugin_sections);

// Every environment variable the core reads (for docs and the compose-file check).
const std::vector<std::string>& framework_env_vars();

}  // namespace routemq
