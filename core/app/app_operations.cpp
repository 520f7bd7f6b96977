// What the operations endpoint (/metrics, /health, /ready) says about an App.
#include <nlohmann/json.hpp>

#include "core/app/app.hpp"
#include "core/app/compiled_route.hpp"
#include "core/mqtt/mqtt_client.hpp"

namespace routemq {
namespace {

using prometheus::MetricType;

const char* state_name(PluginHealth::State state) {
  switch (state) {
    case PluginHealth::State::ok: return "ok";
    case PluginHealth::State::degraded: return "degraded";
    case PluginHealth::State::down: return "down";
    case PluginHealth::State::disabled: return "disabled";
  }
  return "unknown";
}

}  // namespace

void App::add_metrics_source(std::function<metrics::Families()> source) { metrics_sources_.push_back(std::move(source)); }

metrics::Families App::metrics() const {
  metrics::Family received("routemq_messages_received_total", "Messages routed to a route", MetricType::Counter);
  metrics::Family handled("routemq_messages_handled_total", "Messages whose middleware and handler completed",
                          MetricType::Counter);
  metrics::Family replayed("routemq_messages_replayed_total",
                           "Handled messages answered again with what an earlier copy was answered (dedupe's replay)",
                           MetricType::Counter);
  metrics::Family rejected("routemq_messages_rejected_total", "Messages rejected as invalid payloads",
                           MetricType::Counter);
  metrics::Family failed("routemq_messages_failed_total", "Messages whose middleware or handler threw",
                         MetricType::Counter);
  metrics::Family latency("routemq_handler_duration_seconds", "Middleware and handler time per message",
                          MetricType::Histogram);
  for (const auto& route : compiled_) {
    const metrics::Labels labels{{std::string("route"), route->info.name}};
    received.add(labels, static_cast<double>(route->stats.received.load()));
    handled.add(labels, static_cast<double>(route->stats.handled.load()));
    replayed.add(labels, static_cast<double>(route->stats.replayed.load()));
    rejected.add(labels, static_cast<double>(route->stats.rejected.load()));
    failed.add(labels, static_cast<double>(route->stats.failed.load()));
    latency.add_histogram(labels, route->stats.latency.snapshot());
  }
  metrics::Families families;
  for (auto* family : {&received, &handled, &replayed, &rejected, &failed, &latency}) families.push_back(std::move(*family).done());

  auto single = [&](const char* name, const char* help, MetricType type, double value) {
    metrics::Family family(name, help, type);
    family.add({}, value);
    families.push_back(std::move(family).done());
  };
  single("routemq_messages_unmatched_total", "Messages no route matched", MetricType::Counter,
         static_cast<double>(stats_.unmatched.load()));
  single("routemq_messages_in_flight", "Messages being handled now", MetricType::Gauge,
         static_cast<double>(in_flight_.in_flight()));
  single("routemq_messages_in_flight_bytes", "Payload bytes of the messages being handled now", MetricType::Gauge,
         static_cast<double>(in_flight_.in_flight_bytes()));
  single("routemq_mqtt_connected", "1 when connected to the broker", MetricType::Gauge, mqtt_connected() ? 1 : 0);
  single("routemq_mqtt_subscribed", "1 when every route's subscription is acknowledged", MetricType::Gauge,
         mqtt_subscribed() ? 1 : 0);
  if (const auto* mqtt = live_mqtt_.load(std::memory_order_acquire)) {
    const auto& s = mqtt->stats();
    single("routemq_mqtt_connects_total", "Successful connects to the broker (reconnects included)",
           MetricType::Counter, static_cast<double>(s.connects.load()));
    single("routemq_mqtt_connection_losses_total", "Connections to the broker lost", MetricType::Counter,
           static_cast<double>(s.connection_losses.load()));
    single("routemq_mqtt_published_total", "Messages published", MetricType::Counter,
           static_cast<double>(s.published.load()));
    single("routemq_mqtt_publish_failures_total", "Publishes that failed", MetricType::Counter,
           static_cast<double>(s.publish_failures.load()));
    single("routemq_mqtt_subscribe_failures_total", "Subscriptions the broker refused or that failed",
           MetricType::Counter, static_cast<double>(s.subscribe_failures.load()));
    single("routemq_mqtt_protocol_errors_total", "Connections closed because the broker broke the protocol",
           MetricType::Counter, static_cast<double>(s.protocol_errors.load()));
    single("routemq_mqtt_messages_refused_total", "Messages refused as larger than mqtt.max_message_bytes",
           MetricType::Counter, static_cast<double>(s.messages_refused.load()));
    single("routemq_mqtt_acks_pending", "Received QoS 1/2 messages not yet acknowledged to the broker",
           MetricType::Gauge, static_cast<double>(s.acks_pending.load()));
    single("routemq_mqtt_publishes_queued", "Publishes waiting for the connection or the broker's quota",
           MetricType::Gauge, static_cast<double>(s.publishes_queued.load()));
    single("routemq_mqtt_publishes_in_flight", "Publishes sent and not yet acknowledged by the broker",
           MetricType::Gauge, static_cast<double>(s.publishes_in_flight.load()));
  }
  for (const auto& plugin : plugins_)
    for (auto& family : plugin->metrics()) families.push_back(std::move(family));
  for (const auto& source : metrics_sources_)
    for (auto& family : source()) families.push_back(std::move(family));
  return families;
}

http::Response App::readiness() const {
  nlohmann::json report{{"mqtt", {{"connected", mqtt_connected()}, {"subscribed", mqtt_subscribed()}}}};
  bool ready = mqtt_connected() && mqtt_subscribed();
  for (const auto& [name, health] : plugin_health()) {
    report["plugins"][name] = {{"state", state_name(health.state)}, {"detail", health.detail}};
    if (health.state == PluginHealth::State::down) ready = false;
  }
  report["ready"] = ready;
  return {ready ? 200 : 503, "application/json", report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

http::Response App::handle_operations(const http::Request& request) const {
  if (request.path == "/metrics") return {200, metrics::content_type, metrics::serialize(metrics())};
  if (request.path == "/health") return {200, "application/json", "{\"alive\":true}\n"};
  if (request.path == "/ready") return readiness();
  return {404, "text/plain; charset=utf-8", "not found: try /metrics, /health or /ready\n"};
}

}  // namespace routemq
