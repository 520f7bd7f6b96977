#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "core/handling/eventual.hpp"
#include "core/handling/middleware.hpp"

using namespace routemq;

namespace {

// Runs a coroutine to completion on a private io_context; rethrows its exception.
void run_sync(awaitable<void> work) {
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

struct Recorder {
  std::string label;
  std::vector<std::string>* trace;
  awaitable<void> handle(Context&, Next next) {
    trace->push_back(label + ":before");
    co_await next();
    trace->push_back(label + ":after");
  }
};

struct Stopper {
  std::vector<std::string>* trace;
  awaitable<void> handle(Context&, Next) {
    trace->push_back("stopper");
    co_return;
  }
};

Context make_context(const Services& services, std::vector<OutboundMessage>* sent = nullptr,
                     std::string payload = "{}") {
  InboundMessage message{"devices/d1/telemetry", std::move(payload), 1, false, std::nullopt, std::nullopt, {}, {}};
  Params params;
  params.add("device_id", "d1");
  return Context(std::move(message), std::move(params), "telemetry",
                 [sent](OutboundMessage out) {
                   if (sent) sent->push_back(std::move(out));
                 },
                 services);
}

}  // namespace

TEST_CASE("middleware run in order around the handler") {
  std::vector<std::string> trace;
  Chain chain({make_middleware("a", Recorder{"a", &trace}), make_middleware("b", Recorder{"b", &trace})},
              make_handler([&](Context&) { trace.push_back("handler"); }));
  Services services;
  auto ctx = make_context(services);
  run_sync(chain.run(ctx));
  CHECK(trace == std::vector<std::string>{"a:before", "b:before", "handler", "b:after", "a:after"});
  CHECK(chain.names() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a middleware that does not call next stops the chain") {
  std::vector<std::string> trace;
  Chain chain({make_middleware("a", Recorder{"a", &trace}), make_middleware("stop", Stopper{&trace}),
               make_middleware("b", Recorder{"b", &trace})},
              make_handler([&](Context&) { trace.push_back("handler"); }));
  Services services;
  auto ctx = make_context(services);
  run_sync(chain.run(ctx));
  CHECK(trace == std::vector<std::string>{"a:before", "stopper", "a:after"});
}

TEST_CASE("coroutine handlers and exceptions propagate through middleware") {
  std::vector<std::string> trace;
  Handler failing = make_handler([&](Context&) -> awaitable<void> {
    trace.push_back("handler");
    throw std::runtime_error("boom");
    co_return;
  });
  Chain chain({make_middleware("a", Recorder{"a", &trace})}, failing);
  Services services;
  auto ctx = make_context(services);
  CHECK_THROWS_WITH(run_sync(chain.run(ctx)), "boom");
  CHECK(trace == std::vector<std::string>{"a:before", "handler"});
}

TEST_CASE("middleware pass values to the handler through the context") {
  static constexpr ContextKey<std::string> decision_key{"decision"};
  static constexpr ContextKey<int> same_name_other_type{"decision"};
  static constexpr ContextKey<std::string> missing_key{"missing"};
  struct Stamp {
    awaitable<void> handle(Context& ctx, Next next) {
      ctx.set(decision_key, std::string("allowed"));
      co_await next();
    }
  };
  std::string seen;
  Chain chain({make_middleware("stamp", Stamp{})}, make_handler([&](Context& ctx) {
                if (auto* decision = ctx.get(decision_key)) seen = *decision;
                CHECK(ctx.get(same_name_other_type) == nullptr);  // another type under the name: absent, not a crash
                CHECK(ctx.get(missing_key) == nullptr);
                CHECK(ctx.has(decision_key));
              }));
  Services services;
  auto ctx = make_context(services);
  run_sync(chain.run(ctx));
  CHECK(seen == "allowed");
}

TEST_CASE("context parses JSON lazily and reports invalid JSON clearly") {
  Services services;
  auto good = make_context(services, nullptr, R"({"msg_id":"m1","value":2.5})");
  CHECK(good.json()["msg_id"] == "m1");
  CHECK(good.try_json() != nullptr);
  CHECK(good.json_error().empty());

  auto bad = make_context(services, nullptr, "{not json");
  CHECK(bad.try_json() == nullptr);
  CHECK_THAT(bad.json_error(), Catch::Contains("parse error"));
  CHECK_THROWS_AS(bad.json(), InvalidPayload);
  CHECK_THROWS_WITH(bad.json(), Catch::Contains("payload on 'devices/d1/telemetry' is not valid JSON"));

  auto binary = make_context(services, nullptr, std::string("\xff\xfe\x00\x01", 4));
  CHECK(binary.try_json() == nullptr);
}

TEST_CASE("context publish and reply") {
  Services services;
  std::vector<OutboundMessage> sent;
  InboundMessage request{"rpc/echo", "{}", 1, false, "replies/42", "corr-1", {{"k", "v"}}, {}};
  Context ctx(std::move(request), Params{}, "rpc", [&](OutboundMessage out) { sent.push_back(std::move(out)); },
              services);
  CHECK(ctx.user_property("k") == std::optional<std::string_view>("v"));
  CHECK_FALSE(ctx.user_property("nope"));
  ctx.publish("a/b", nlohmann::json{{"x", 1}}, {.qos = 1, .retain = true});
  REQUIRE(ctx.reply(std::string("pong")));
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].topic == "a/b");
  CHECK(sent[0].payload == R"({"x":1})");
  CHECK(sent[0].options.qos == 1);
  CHECK(sent[0].options.retain);
  CHECK(sent[1].topic == "replies/42");
  CHECK(sent[1].payload == "pong");
  CHECK(sent[1].options.correlation_data == std::optional<std::string>("corr-1"));

  auto no_response_topic = make_context(services, &sent);
  CHECK_FALSE(no_response_topic.reply(std::string("x")));
  CHECK(sent.size() == 2);
}

TEST_CASE("JSON published from a handler with bytes that are not UTF-8 goes out with U+FFFD, not an exception") {
  Services services;
  std::vector<OutboundMessage> sent;
  auto ctx = make_context(services, &sent);
  ctx.publish("a/b", nlohmann::json{{"detail", std::string("last read: '\xff'")}});
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].payload == "{\"detail\":\"last read: '\xEF\xBF\xBD'\"}");
}

TEST_CASE("services are found by type") {
  struct Clock {
    int now = 42;
  };
  Services services;
  CHECK(services.find<Clock>() == nullptr);
  CHECK_THROWS_WITH(services.get<Clock>(), Catch::Contains("no service of type"));
  services.provide(std::make_shared<Clock>());
  CHECK(services.get<Clock>().now == 42);
  auto ctx = make_context(services);
  CHECK(ctx.service<Clock>().now == 42);
  CHECK(ctx.param("device_id") == "d1");
  CHECK_THROWS_AS(ctx.param("nope"), std::out_of_range);
}

TEST_CASE("a string literal payload is published as text") {
  std::vector<OutboundMessage> sent;
  Services services;
  InboundMessage message;
  message.topic = "t";
  message.response_topic = "r";
  Context ctx(message, {}, "route", [&](OutboundMessage m) { sent.push_back(std::move(m)); }, services);
  ctx.publish("out", "1");
  CHECK(ctx.reply("pong"));
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].payload == "1");
  CHECK(sent[1].payload == "pong");
}

namespace {

// A middleware that can start early: records when it was prepared and when its turn came.
struct Early {
  std::string label;
  std::vector<std::string>* trace;
  void prepare(Context&) { trace->push_back(label + ":prepare"); }
  awaitable<void> handle(Context&, Next next) {
    trace->push_back(label + ":handle");
    co_await next();
  }
};

}  // namespace

TEST_CASE("a run of preparable middleware is prepared together when the chain reaches it, and only then") {
  Services services;
  std::vector<std::string> trace;
  Chain chain({make_middleware("validate", Recorder{"validate", &trace}), make_middleware("limit", Early{"limit", &trace}),
               make_middleware("dedupe", Early{"dedupe", &trace}), make_middleware("audit", Recorder{"audit", &trace}),
               make_middleware("lone", Early{"lone", &trace})},
              [&](Context&) -> awaitable<void> {
                trace.push_back("handler");
                co_return;
              });
  auto ctx = make_context(services);
  run_sync(chain.run(ctx));
  // validate passes first; limit and dedupe start together; a run of one is not prepared (nothing to gain).
  CHECK(trace == std::vector<std::string>{"validate:before", "limit:prepare", "dedupe:prepare", "limit:handle",
                                          "dedupe:handle", "audit:before", "lone:handle", "handler", "audit:after",
                                          "validate:after"});
}

TEST_CASE("a middleware stopping the chain before a preparable run: the run is never prepared") {
  Services services;
  std::vector<std::string> trace;
  Chain chain({make_middleware("stop", Stopper{&trace}), make_middleware("a", Early{"a", &trace}),
               make_middleware("b", Early{"b", &trace})},
              [&](Context&) -> awaitable<void> { co_return; });
  auto ctx = make_context(services);
  run_sync(chain.run(ctx));
  CHECK(trace == std::vector<std::string>{"stopper"});
}

TEST_CASE("an eventual value: awaited before or after it arrives, or its failure rethrown") {
  asio::io_context io;
  auto later = std::make_shared<Eventual<int>>();
  auto ready = std::make_shared<Eventual<int>>();
  auto failing = std::make_shared<Eventual<int>>();
  ready->set(1);
  std::vector<int> got;
  bool failed = false;
  auto await_all = [&]() -> awaitable<void> {
    got.push_back(co_await ready->get());
    got.push_back(co_await later->get());  // suspends until set below
    try {
      co_await failing->get();
    } catch (const std::runtime_error&) {
      failed = true;
    }
  };
  asio::co_spawn(io, await_all(), asio::detached);
  io.poll();
  CHECK(got == std::vector<int>{1});
  CHECK_FALSE(later->ready());
  std::thread setter([&] { later->set(2); });  // from another thread, as a Redis reply would
  setter.join();
  failing->fail(std::make_exception_ptr(std::runtime_error("down")));
  io.run();
  CHECK(got == std::vector<int>{1, 2});
  CHECK(failed);
}

TEST_CASE("start_early runs the work at once and hands its value over later") {
  asio::io_context io;
  bool ran = false;
  auto work = [&]() -> awaitable<std::string> {
    ran = true;
    co_return std::string("decided");
  };
  auto decision = start_early(io, work());
  io.poll();
  CHECK(ran);
  CHECK(decision->ready());
  std::string value;
  auto take = [&]() -> awaitable<void> { value = co_await decision->get(); };
  asio::co_spawn(io, take(), asio::detached);
  io.restart();  // poll() ran out of work: the io_context stopped
  io.run();
  CHECK(value == "decided");
}
