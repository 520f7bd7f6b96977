#pragma once
// Builds Prometheus metric families from plain values at scrape time, so the message path only ever
// touches atomics:
//
//   metrics::Family received("routemq_messages_received_total", "Messages received", prometheus::MetricType::Counter);
//   received.add({{"route", "telemetry"}}, 42);
//   families.push_back(received.done());
#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace routemq::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;
using Families = std::vector<prometheus::MetricFamily>;

class Family {
 public:
  Family(std::string name, std::string help, prometheus::MetricType type);

  // A counter, gauge or untyped sample (by the family's type).
  Family& add(const Labels& labels, double value);
  Family& add_histogram(const Labels& labels, prometheus::ClientMetric::Histogram histogram);
  Family& add_summary(const Labels& labels, prometheus::ClientMetric::Summary summary);
  prometheus::MetricFamily done() && { return std::move(family_); }

 private:
  prometheus::ClientMetric& sample(const Labels& labels);
  prometheus::MetricFamily family_;
};

// The text exposition format (what /metrics answers).
std::string serialize(const Families& families);
inline constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace routemq::metrics
