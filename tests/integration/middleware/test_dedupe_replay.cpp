// dedupe's replay through real servers: a duplicate gets the first copy's answers again (byte for
// byte, a reply on the duplicate's own response topic), a reused id is refused, a copy arriving
// mid-handling waits for the answers, answers over the bound are not kept, and the in-process memory
// replays while Redis is down.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "middleware/decision_counters.hpp"
#include "middleware/dedupe.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"
#include "tests/integration/middleware/middleware_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Binary, with a zero byte and bytes that are not UTF-8.
const std::string binary_prefix = std::string("\0\xff\xfe", 3);

// Answers each message on answers/<msg_id> (binary, with MQTT 5 properties) and replies to it, both
// carrying how many messages it has handled: a replayed answer carries the first handling's number.
// Waits `delay` first, so that a copy can arrive while it is being handled.
struct AnsweringHandler {
  std::shared_ptr<std::atomic<int>> handled = std::make_shared<std::atomic<int>>(0);
  std::chrono::milliseconds delay{0};
  awaitable<void> operator()(Context& ctx) const {
    const auto id = ctx.json()["msg_id"].get<std::string>();
    const auto n = std::to_string(++*handled);
    if (delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::use_awaitable);
    }
    ctx.publish("answers/" + id, binary_prefix + n,
                {.qos = 1, .response_topic = "elsewhere/x", .correlation_data = std::string("\x01\x00", 2),
                 .user_properties = {{"k", "v1"}, {"k", "v2"}, {"n", n}}});
    ctx.reply("reply " + n);
  }
};

std::string yaml(const std::string& options, const std::string& lease = "5") {
  return "[{dedupe: {id: \"{payload.msg_id}\", window: 60, lease: " + lease + ", replay: true" + options + "}}]";
}

std::size_t count_on(MqttProbe& probe, const std::string& topic, std::size_t at_least, std::chrono::milliseconds deadline) {
  return probe.wait_count([&](const ReceivedMessage& m) { return m.topic == topic; }, at_least, deadline);
}

std::vector<ReceivedMessage> on(MqttProbe& probe, const std::string& topic) {
  std::vector<ReceivedMessage> found;
  for (auto& m : probe.messages())
    if (m.topic == topic) found.push_back(m);
  return found;
}

// A broker and a redis-server of the test's own, and a probe subscribed to every answer.
struct ReplayServers {
  MosquittoServer broker;
  RedisServer redis_server;
  MqttProbe probe;
  ReplayServers() {
    broker.start();
    redis_server.start();
    probe.connect(broker.port());
    probe.subscribe("answers/#", 1);
  }
};

}  // namespace

TEST_CASE_METHOD(ReplayServers, "dedupe replay: a duplicate gets the first copy's answers again, byte for byte, and is handled once") {
  AnsweringHandler handler;
  MiddlewareInstance instance(broker.port(), redis_server.port(), "jobs/{n}", yaml(""), handler);
  REQUIRE(instance.ready());
  probe.subscribe("replies/#", 1);
  const std::string request = R"({"msg_id":"m1"})";
  probe.publish("jobs/1", request, 1, false, {.response_topic = "replies/a", .correlation_data = "first"});
  REQUIRE(count_on(probe, "replies/a", 1, 10s) == 1);
  // The copy asks for its answer elsewhere, with its own correlation data.
  probe.publish("jobs/1", request, 1, false, {.response_topic = "replies/b", .correlation_data = std::string("2\0nd", 4)});
  REQUIRE(count_on(probe, "replies/b", 1, 10s) == 1);
  REQUIRE(count_on(probe, "answers/m1", 2, 10s) == 2);
  CHECK(handler.handled->load() == 1);

  const auto answers = on(probe, "answers/m1");
  for (const auto& answer : answers) {
    CHECK(answer.payload == binary_prefix + "1");
    CHECK(answer.qos == 1);
    CHECK(answer.response_topic == std::optional<std::string>("elsewhere/x"));
    CHECK(answer.correlation_data == std::optional<std::string>(std::string("\x01\x00", 2)));
    CHECK(answer.user_properties == std::vector<std::pair<std::string, std::string>>{{"k", "v1"}, {"k", "v2"}, {"n", "1"}});
  }
  const auto first_reply = on(probe, "replies/a").at(0);
  const auto replayed_reply = on(probe, "replies/b").at(0);
  CHECK(first_reply.payload == "reply 1");
  CHECK(replayed_reply.payload == "reply 1");
  CHECK(first_reply.correlation_data == std::optional<std::string>("first"));
  CHECK(replayed_reply.correlation_data == std::optional<std::string>(std::string("2\0nd", 4)));
  CHECK(redis_server.command({"GET", "routemq:dd:{r:m1}"}).find("\r\nd:") != std::string::npos);

  // A copy without a response topic gets the publish again, and no reply.
  probe.clear();
  probe.publish("jobs/1", request, 1);
  CHECK(count_on(probe, "answers/m1", 1, 10s) == 1);
  CHECK(count_on(probe, "replies/a", 1, 300ms) == 0);
  CHECK(handler.handled->load() == 1);
}

TEST_CASE_METHOD(ReplayServers, "dedupe replay: an id reused with another payload is refused on reject_topic and nothing is handled") {
  AnsweringHandler handler;
  MiddlewareInstance instance(broker.port(), redis_server.port(), "jobs/{n}",
                              yaml(", reject_topic: \"rejected/{n}\""), handler);
  REQUIRE(instance.ready());
  probe.subscribe("rejected/#", 1);
  const auto reused_before = middleware::decision_counters().get("dedupe", "id_reused");
  probe.publish("jobs/7", R"({"msg_id":"m1","value":1})", 1);
  REQUIRE(count_on(probe, "answers/m1", 1, 10s) == 1);
  probe.publish("jobs/7", R"({"msg_id":"m1","value":2})", 1);  // the same id, another reading
  const auto rejected = probe.wait_for_topic("rejected/7", 10s);
  REQUIRE(rejected);
  CHECK(nlohmann::json::parse(rejected->payload) == nlohmann::json{{"error", "id_reused"}, {"id", "m1"}, {"msg_id", "m1"}});
  CHECK(middleware::decision_counters().get("dedupe", "id_reused") == reused_before + 1);
  probe.publish("jobs/7", R"({"msg_id":"m1","value":1})", 1);  // the first reading again: replayed
  CHECK(count_on(probe, "answers/m1", 2, 10s) == 2);
  CHECK(handler.handled->load() == 1);
  CHECK(on(probe, "rejected/7").size() == 1);

  SECTION("a fingerprint template compares only what it names, and none compares nothing") {
    AnsweringHandler by_value;
    MiddlewareInstance keyed(broker.port(), redis_server.port(), "keyed/{n}",
                             yaml(", fingerprint: \"{payload.value}\", reject_topic: \"rejected/{n}\""), by_value);
    AnsweringHandler any;
    MiddlewareInstance anything(broker.port(), redis_server.port(), "any/{n}", yaml(", fingerprint: none"), any);
    REQUIRE(keyed.ready());
    REQUIRE(anything.ready());
    probe.publish("keyed/1", R"({"msg_id":"k1","value":1,"sent_at":1})", 1);
    REQUIRE(count_on(probe, "answers/k1", 1, 10s) == 1);
    probe.publish("keyed/1", R"({"msg_id":"k1","value":1,"sent_at":2})", 1);  // a resend: same value
    CHECK(count_on(probe, "answers/k1", 2, 10s) == 2);
    probe.publish("keyed/1", R"({"msg_id":"k1","value":5,"sent_at":3})", 1);
    CHECK(probe.wait_for_topic("rejected/1", 10s));
    CHECK(by_value.handled->load() == 1);
    probe.publish("any/1", R"({"msg_id":"a1","value":1})", 1);
    REQUIRE(count_on(probe, "answers/a1", 1, 10s) == 1);
    probe.publish("any/1", R"({"msg_id":"a1","value":9})", 1);
    CHECK(count_on(probe, "answers/a1", 2, 10s) == 2);
    CHECK(any.handled->load() == 1);
    // A payload the fingerprint template cannot read (not JSON, not UTF-8, or without the field) is
    // rejected as invalid, and the next message is served.
    const auto key_errors_before = middleware::decision_counters().get("dedupe", "key_error");
    probe.publish("keyed/1", std::string("\xff\xfe{\"msg_id\":", 12), 1);
    probe.publish("keyed/1", R"({"msg_id":"k2"})", 1);
    probe.publish("keyed/1", R"({"msg_id":"k3","value":3})", 1);
    CHECK(count_on(probe, "answers/k3", 1, 10s) == 1);
    CHECK(middleware::decision_counters().get("dedupe", "key_error") == key_errors_before + 2);
  }
}

TEST_CASE_METHOD(ReplayServers, "dedupe replay: a copy arriving while the first is being handled waits for its answers: one handling, both answered") {
  AnsweringHandler handler{.delay = 500ms};
  // Two instances in one shared subscription; the copy goes to another topic, so that whichever
  // instance takes it, it is in another ordering lane and meets the first copy's claim mid-handling
  // (instead of queueing behind it).
  MiddlewareInstance a(broker.port(), redis_server.port(), "jobs/{n}", yaml(""), handler);
  MiddlewareInstance b(broker.port(), redis_server.port(), "jobs/{n}", yaml(""), handler);
  REQUIRE(a.ready());
  REQUIRE(b.ready());
  const auto waited_before = middleware::decision_counters().get("dedupe", "replayed");
  probe.publish("jobs/1", R"({"msg_id":"slow"})", 1);
  REQUIRE(wait_until([&] { return handler.handled->load() == 1; }, 10s));
  probe.publish("jobs/2", R"({"msg_id":"slow"})", 1);
  REQUIRE(count_on(probe, "answers/slow", 2, 10s) == 2);
  CHECK(handler.handled->load() == 1);
  for (const auto& answer : on(probe, "answers/slow")) CHECK(answer.payload == binary_prefix + "1");
  CHECK(middleware::decision_counters().get("dedupe", "replayed") == waited_before + 1);
}

TEST_CASE_METHOD(ReplayServers, "dedupe replay: answers over replay_max_bytes are not kept, and the id stays done") {
  AnsweringHandler handler;
  MiddlewareInstance instance(broker.port(), redis_server.port(), "jobs/{n}", yaml(", replay_max_bytes: 20"), handler);
  REQUIRE(instance.ready());
  const auto over_before = middleware::decision_counters().get("dedupe", "answers_over_bound");
  const auto duplicates_before = middleware::decision_counters().get("dedupe", "duplicate");
  probe.publish("jobs/1", R"({"msg_id":"big"})", 1);
  REQUIRE(count_on(probe, "answers/big", 1, 10s) == 1);
  REQUIRE(wait_until([&] { return middleware::decision_counters().get("dedupe", "answers_over_bound") == over_before + 1; }, 10s));
  probe.publish("jobs/1", R"({"msg_id":"big"})", 1);
  REQUIRE(wait_until([&] { return middleware::decision_counters().get("dedupe", "duplicate") == duplicates_before + 1; }, 10s));
  CHECK(count_on(probe, "answers/big", 2, 300ms) == 1);  // done, without answers
  CHECK(handler.handled->load() == 1);
}

TEST_CASE_METHOD(ReplayServers, "dedupe replay: with Redis down the in-process memory replays the answers too") {
  AnsweringHandler handler;
  MiddlewareInstance instance(broker.port(), redis_server.port(), "jobs/{n}", yaml(""), handler);
  REQUIRE(instance.ready());
  redis_server.kill9();
  REQUIRE(wait_until([&] { return !instance.manager->is_connected(); }, 10s));
  for (int i = 0; i < 3; ++i) probe.publish("jobs/1", R"({"msg_id":"down"})", 1);
  REQUIRE(count_on(probe, "answers/down", 3, 10s) == 3);
  CHECK(handler.handled->load() == 1);
  for (const auto& answer : on(probe, "answers/down")) CHECK(answer.payload == binary_prefix + "1");
}

TEST_CASE_METHOD(ReplayServers, "dedupe: a slow handler keeps its claim past the lease, and the claim of an instance that died frees its id within one") {
  AnsweringHandler handler{.delay = 1500ms};
  // lease 0.4 s: renewed every ~0.13 s while the handler runs for 1.5 s.
  MiddlewareInstance a(broker.port(), redis_server.port(), "jobs/{n}", yaml("", "0.4"), handler);
  REQUIRE(a.ready());
  probe.publish("jobs/1", R"({"msg_id":"long"})", 1);
  REQUIRE(wait_until([&] { return handler.handled->load() == 1; }, 10s));
  std::this_thread::sleep_for(800ms);  // past two leases: only renewal keeps the claim
  // The copy on another topic: another ordering lane, so it meets the claim while the first is handled
  // (waits, then replays), instead of queueing behind it.
  probe.publish("jobs/2", R"({"msg_id":"long"})", 1);
  REQUIRE(count_on(probe, "answers/long", 2, 10s) == 2);
  CHECK(handler.handled->load() == 1);

  // A claim whose process died (another owner: nobody takes it over at once) holds for its lease only.
  redis::DedupeStore ghost(*a.manager, {.window = 60s, .lease = 400ms, .owner = "ghost", .incarnation = "0a"});
  REQUIRE(a.manager->run_sync(ghost.claim("r:orphan", R"({"msg_id":"orphan"})")).outcome ==
          redis::DedupeStore::Outcome::first);
  probe.publish("jobs/1", R"({"msg_id":"orphan"})", 1);
  CHECK(count_on(probe, "answers/orphan", 1, 10s) == 1);
  CHECK(handler.handled->load() == 2);
}
