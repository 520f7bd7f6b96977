#pragma once
// One benchmark measurement: how many operations completed in how long, and each one's latency.
// Shared by the benchmarks so every one reports the same figures in the same two formats: a table
// row for people and a `RESULT name=... ops=...` line for scripts/bench.sh.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace routemq::bench {

using Clock = std::chrono::steady_clock;

struct Measurement {
  std::string name;        // e.g. routemq_get
  int concurrency = 1;     // callers running at once
  std::uint64_t operations = 0;  // completed successfully inside the window
  std::uint64_t errors = 0;      // completed without the expected result
  std::chrono::nanoseconds elapsed{};
  std::vector<std::uint32_t> latencies_ns;  // one per successful operation (caps at ~4.2 s: plenty)
};

struct Summary {
  double ops_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// The q-quantile (0 < q < 1) by nearest rank; reorders `values`.
inline double quantile_us(std::vector<std::uint32_t>& values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
  return static_cast<double>(values[rank]) / 1000.0;
}

inline Summary summarize(Measurement& m) {
  Summary s;
  const double seconds = std::chrono::duration<double>(m.elapsed).count();
  s.ops_per_second = seconds > 0 ? static_cast<double>(m.operations) / seconds : 0;
  s.p50_us = quantile_us(m.latencies_ns, 0.50);
  s.p99_us = quantile_us(m.latencies_ns, 0.99);
  return s;
}

inline std::uint32_t clamp_ns(Clock::duration latency) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count();
  return static_cast<std::uint32_t>(std::clamp<long long>(ns, 0, UINT32_MAX));
}

// "1.23 0.98 0.75": the 1, 5 and 15 minute load averages; the machine is shared, so every report
// says how busy it was.
inline std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(file >> one >> five >> fifteen)) return "unknown";
  return one + " " + five + " " + fifteen;
}

inline void print_table_header() {
  std::printf("%-22s %6s %14s %10s %10s %8s\n", "measurement", "c", "ops/s", "p50 us", "p99 us", "errors");
}

inline void print_row(const Measurement& m, const Summary& s) {
  std::printf("%-22s %6d %14.0f %10.1f %10.1f %8llu\n", m.name.c_str(), m.concurrency, s.ops_per_second, s.p50_us,
              s.p99_us, static_cast<unsigned long long>(m.errors));
}

inline void print_result_line(const Measurement& m, const Summary& s) {
  std::printf("RESULT name=%s c=%d ops=%.0f p50_us=%.1f p99_us=%.1f errors=%llu\n", m.name.c_str(), m.concurrency,
              s.ops_per_second, s.p50_us, s.p99_us, static_cast<unsigned long long>(m.errors));
}

}  // namespace routemq::bench
