// bench_routing: what a route lookup costs in the trie Router, beside a linear scan of compiled regexes
// (what a Python router such as RouteMQ's does: one re.match per route until one matches).
//
//   build/bin/bench_routing [--sizes 10,100,1000,10000,100000] [--seconds 1]
//
// Routes have realistic IoT shapes, generated deterministically: "tenant7/devices/{device_id}/telemetry",
// "site3/+/alarms/#", "fleet12/{vehicle}/gps/{fix}" ... Every topic looked up matches one route (drawn
// evenly over the table), so the regex scan walks half the table on average, as it would in service.
#include <chrono>
#include <cstdio>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/measurement.hpp"
#include "core/routing/router.hpp"

namespace {

using routemq::bench::Clock;

struct Options {
  std::vector<std::size_t> sizes{10, 100, 1000, 10000, 100000};
  double seconds = 1;
};

// One generated route and a topic it matches.
struct Route {
  std::string pattern;  // the Router's syntax
  std::string regex;    // the equivalent anchored regex
  std::string topic;
};

// Shapes seen in IoT deployments; `i` makes each route distinct (its first level).
Route make_route(std::size_t i) {
  const std::string scope = "t" + std::to_string(i);
  switch (i % 5) {
    case 0: return {scope + "/devices/{device_id}/telemetry", scope + "/devices/([^/]+)/telemetry", scope + "/devices/d42/telemetry"};
    case 1: return {scope + "/devices/{device_id}/commands/{command}", scope + "/devices/([^/]+)/commands/([^/]+)",
                    scope + "/devices/d42/commands/reboot"};
    case 2: return {scope + "/+/alarms/#", scope + "/[^/]+/alarms(/.*)?", scope + "/site9/alarms/fire/level2"};
    case 3: return {scope + "/fleet/{vehicle}/gps", scope + "/fleet/([^/]+)/gps", scope + "/fleet/v7/gps"};
    default: return {scope + "/status", scope + "/status", scope + "/status"};
  }
}

std::vector<std::size_t> parse_sizes(const std::string& text) {
  std::vector<std::size_t> sizes;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) sizes.push_back(std::stoul(item));
  if (sizes.empty()) throw std::invalid_argument("--sizes expects a comma-separated list");
  return sizes;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--sizes") options.sizes = parse_sizes(argv[i + 1]);
    else if (flag == "--seconds") options.seconds = std::stod(argv[i + 1]);
    else throw std::invalid_argument("unknown option " + flag);
  }
  return options;
}

// Runs `lookup(topic)` over `topics` round-robin for about `seconds`; returns ns per lookup.
template <class Lookup>
double ns_per_lookup(const std::vector<std::string>& topics, double seconds, Lookup lookup) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::size_t done = 0, found = 0;
  const auto started = Clock::now();
  while (Clock::now() < deadline) {
    for (std::size_t k = 0; k < 64; ++k, ++done) found += lookup(topics[done % topics.size()]) ? 1 : 0;
  }
  const double elapsed = std::chrono::duration<double, std::nano>(Clock::now() - started).count();
  if (found != done) throw std::runtime_error("a topic that should match did not");
  return elapsed / static_cast<double>(done);
}

void run_size(std::size_t size, double seconds) {
  routemq::Router router;
  std::vector<std::regex> regexes;
  std::vector<std::string> all_topics;
  for (std::size_t i = 0; i < size; ++i) {
    const auto route = make_route(i);
    router.add(route.pattern);
    regexes.emplace_back(route.regex, std::regex::optimize);
    all_topics.push_back(route.topic);
  }
  // 1000 topics drawn evenly over the table, in a fixed random order.
  std::vector<std::string> topics;
  std::mt19937 random(42);
  for (std::size_t k = 0; k < 1000; ++k) topics.push_back(all_topics[random() % size]);

  const double trie_ns = ns_per_lookup(topics, seconds, [&](const std::string& topic) { return router.match(topic).has_value(); });
  const double regex_ns = ns_per_lookup(topics, seconds, [&](const std::string& topic) {
    for (const auto& regex : regexes)
      if (std::regex_match(topic, regex)) return true;
    return false;
  });
  std::printf("%-8zu %14.0f %12.1f %14.0f %14.1f %10.1fx\n", size, 1e9 / trie_ns, trie_ns, 1e9 / regex_ns, regex_ns,
              regex_ns / trie_ns);
  std::printf("RESULT routes=%zu trie_ns=%.1f regex_ns=%.1f\n", size, trie_ns, regex_ns);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = parse_options(argc, argv);
    std::printf("bench_routing: %.1f s per measurement, LOADAVG at=start %s\n", options.seconds,
                routemq::bench::load_average().c_str());
    std::printf("%-8s %14s %12s %14s %14s %11s\n", "routes", "trie match/s", "trie ns", "regex match/s", "regex ns",
                "trie gain");
    for (auto size : options.sizes) run_size(size, options.seconds);
    std::printf("LOADAVG at=end %s\n", routemq::bench::load_average().c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_routing: %s\n", error.what());
    return 1;
  }
}
