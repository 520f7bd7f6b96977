#include <catch2/catch.hpp>

#include "core/routing/router.hpp"
#include "middleware/key_template.hpp"

using namespace routemq;
using namespace routemq::middleware;

namespace {

struct Message {
  Services services;
  Context context;
  Message(std::string topic, std::string payload, Params params, UserProperties properties = {})
      : context(make_message(std::move(topic), std::move(payload), std::move(properties)), std::move(params), "r",
                [](OutboundMessage) {}, services) {}
  static InboundMessage make_message(std::string topic, std::string payload, UserProperties properties) {
    InboundMessage message;
    message.topic = std::move(topic);
    message.payload = std::move(payload);
    message.user_properties = std::move(properties);
    return message;
  }
};

Params device(std::string id) {
  Params params;
  params.add("device_id", std::move(id));
  return params;
}

}  // namespace

TEST_CASE("key templates fill params, topic, payload fields, user properties and hashes") {
  Message m("devices/d1/telemetry", R"({"msg_id":"m-7","n":42,"ok":true,"meta":{"site":"s1"}})", device("d1"),
            {{"tenant", "t9"}});
  CHECK(KeyTemplate::parse("dev:{device_id}").render(m.context).key == "dev:d1");
  CHECK(KeyTemplate::parse("{topic}").render(m.context).key == "devices/d1/telemetry");
  CHECK(KeyTemplate::parse("{device_id}:{payload.msg_id}").render(m.context).key == "d1:m-7");
  CHECK(KeyTemplate::parse("{payload.n}/{payload.ok}").render(m.context).key == "42/true");
  CHECK(KeyTemplate::parse("{payload.meta.site}").render(m.context).key == "s1");
  CHECK(KeyTemplate::parse("{user.tenant}").render(m.context).key == "t9");
  const auto hash = KeyTemplate::parse("{hash}").render(m.context).key;
  CHECK(hash.size() == 40);
  Message same("devices/d1/telemetry", std::string(m.context.payload()), device("d1"));
  CHECK(KeyTemplate::parse("{hash}").render(same.context).key == hash);
  Message other("devices/d2/telemetry", std::string(m.context.payload()), device("d2"));
  CHECK(KeyTemplate::parse("{hash}").render(other.context).key != hash);
  CHECK(KeyTemplate::parse("plain").render(m.context).key == "plain");
}

TEST_CASE("a template that cannot be filled is an error for that message, never a shared key") {
  Message m("devices/d1/telemetry", R"({"msg_id":null,"obj":{}})", device("d1"));
  auto error_of = [&](std::string_view text) { return KeyTemplate::parse(text).render(m.context).error; };
  CHECK_THAT(error_of("{room}"), Catch::Contains("no parameter 'room'"));
  CHECK_THAT(error_of("{payload.missing}"), Catch::Contains("no field 'missing'"));
  CHECK_THAT(error_of("{payload.msg_id}"), Catch::Contains("not a string, number or boolean"));
  CHECK_THAT(error_of("{payload.obj}"), Catch::Contains("not a string, number or boolean"));
  CHECK_THAT(error_of("{payload.obj.deeper}"), Catch::Contains("no field 'obj.deeper'"));
  CHECK_THAT(error_of("{user.tenant}"), Catch::Contains("no user property 'tenant'"));
  Message not_json("t", "oops", {});
  CHECK_THAT(KeyTemplate::parse("{payload.id}").render(not_json.context).error, Catch::Contains("not JSON"));
  CHECK_THAT(error_of("{response_topic}"), Catch::Contains("no response topic"));
  CHECK_THAT(error_of("{correlation_data}"), Catch::Contains("no correlation data"));
}

TEST_CASE("an MQTT 5 request's response topic and correlation data fill keys, binary bytes as hex") {
  Message m("rpc/stock", "{}", {});
  auto request = Message::make_message("rpc/stock", "{}", {});
  request.response_topic = "replies/*/#?[a]";  // glob and filter characters: text like any other
  request.correlation_data = std::string("\0\xff\x10 :{}", 7);
  Services services;
  Context ctx(std::move(request), {}, "r", [](OutboundMessage) {}, services);
  CHECK(KeyTemplate::parse("{response_topic}:{correlation_data}").render(ctx).key == "replies/*/#?[a]:00ff10203a7b7d");
  request = Message::make_message("rpc/stock", "{}", {});
  request.correlation_data = std::string();
  Context empty(std::move(request), {}, "r", [](OutboundMessage) {}, services);
  CHECK(KeyTemplate::parse("c:{correlation_data}").render(empty).key == "c:");  // present, if empty
}

TEST_CASE("malformed templates are rejected when the middleware is configured") {
  CHECK_THROWS_WITH(KeyTemplate::parse(""), Catch::Contains("is empty"));
  CHECK_THROWS_WITH(KeyTemplate::parse("a{b"), Catch::Contains("key template 'a{b': a '{' without its '}'"));
  CHECK_THROWS_WITH(KeyTemplate::parse("a}b"), Catch::Contains("a '}' without its '{'"));
  CHECK_THROWS_WITH(KeyTemplate::parse("{}"), Catch::Contains("empty or nested"));
  CHECK_THROWS_WITH(KeyTemplate::parse("{a{b}}"), Catch::Contains("empty or nested"));
}
