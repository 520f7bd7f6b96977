#include "core/metrics/family.hpp"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace routemq::metrics {

Family::Family(std::string name, std::string help, prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

prometheus::ClientMetric& Family::sample(const Labels& labels) {
  auto& metric = family_.metric.emplace_back();
  for (const auto& [name, value] : labels) metric.label.push_back({name, value});
  return metric;
}

Family& Family::add(const Labels& labels, double value) {
  auto& metric = sample(labels);
  switch (family_.type) {
    case prometheus::MetricType::Counter: metric.counter.value = value; break;
    case prometheus::MetricType::Gauge: metric.gauge.value = value; break;
    default: metric.untyped.value = value; break;
  }
  return *this;
}

Family& Family::add_histogram(const Labels& labels, prometheus::ClientMetric::Histogram histogram) {
  sample(labels).histogram = std::move(histogram);
  return *this;
}

Family& Family::add_summary(const Labels& labels, prometheus::ClientMetric::Summary summary) {
  sample(labels).summary = std::move(summary);
  return *this;
}

std::string serialize(const Families& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace routemq::metrics
