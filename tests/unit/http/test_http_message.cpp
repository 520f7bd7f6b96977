// The operations endpoint's HTTP, without sockets.
#include <catch2/catch.hpp>

#include "core/http/http_message.hpp"
#include "core/metrics/family.hpp"
#include "core/metrics/latency_buckets.hpp"

using namespace routemq;

TEST_CASE("a request line is parsed, the query string is dropped") {
  auto request = http::parse_request("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(request);
  CHECK(request->method == "GET");
  CHECK(request->path == "/metrics");
  CHECK(http::parse_request("HEAD /ready HTTP/1.0\r\n\r\n")->method == "HEAD");
}

TEST_CASE("what is not an HTTP request line is refused") {
  CHECK_FALSE(http::parse_request("GET /metrics HTTP/1.1"));  // no line end
  CHECK_FALSE(http::parse_request("GET\r\n\r\n"));
  CHECK_FALSE(http::parse_request("GET /a\r\n\r\n"));
  CHECK_FALSE(http::parse_request("GET metrics HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(http::parse_request("GET /a SMTP/1.1\r\n\r\n"));
  CHECK_FALSE(http::parse_request(" /a HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(http::parse_request(std::string("\0\xff\r\n\r\n", 6)));
}

TEST_CASE("a response has a status line, a length and no body for HEAD") {
  const http::Response response{503, "application/json", "{}"};
  CHECK(http::format_response(response) ==
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\n{}");
  CHECK(http::format_response(response, true).ends_with("Content-Length: 2\r\nConnection: close\r\n\r\n"));
}

TEST_CASE("latency buckets are cumulative, with a sum, in the exposition format") {
  metrics::LatencyBuckets buckets;
  buckets.record(std::chrono::microseconds(50));   // <= 100 us
  buckets.record(std::chrono::milliseconds(3));    // <= 5 ms
  buckets.record(std::chrono::seconds(30));        // above every bound
  const auto histogram = buckets.snapshot();
  CHECK(histogram.sample_count == 3);
  CHECK(histogram.bucket.front().cumulative_count == 1);
  CHECK(histogram.bucket[5].upper_bound == 0.005);
  CHECK(histogram.bucket[5].cumulative_count == 2);
  CHECK(histogram.bucket.back().cumulative_count == 3);
  CHECK(histogram.sample_sum == Approx(30.00305));

  metrics::Family family("t_seconds", "help", prometheus::MetricType::Histogram);
  family.add_histogram({{"route", "a"}}, histogram);
  const auto text = metrics::serialize({std::move(family).done()});
  CHECK_THAT(text, Catch::Contains("t_seconds_bucket{route=\"a\",le=\"0.0001\"} 1"));
  CHECK_THAT(text, Catch::Contains("t_seconds_count{route=\"a\"} 3"));
}
