// Answers kept for replay: their encoding, byte for byte and against hostile bytes, and the context
// recording and replaying them.
#include <catch2/catch.hpp>

#include "core/handling/answers.hpp"
#include "core/handling/context.hpp"

using namespace routemq;

namespace {

Answers sample_answers() {
  Answer publish{{"devices/d1/ack", std::string("\0\xff{\"n\":1}", 9),
                  {.qos = 1, .retain = true, .response_topic = "r/t", .correlation_data = std::string("\0c", 2),
                   .user_properties = {{"k", "v1"}, {"k", "v2"}, {"", ""}}}},
                 false};
  Answer reply{{"replies/a", "42", {.qos = 2, .correlation_data = "first"}}, true};
  Answer bare{{"t", "", {}}, false};
  return {publish, reply, bare};
}

bool same(const Answers& a, const Answers& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i].message;
    const auto& y = b[i].message;
    if (a[i].reply != b[i].reply || x.topic != y.topic || x.payload != y.payload || x.options.qos != y.options.qos ||
        x.options.retain != y.options.retain || x.options.response_topic != y.options.response_topic ||
        x.options.correlation_data != y.options.correlation_data || x.options.user_properties != y.options.user_properties)
      return false;
  }
  return true;
}

Context context_for(InboundMessage message, std::vector<OutboundMessage>& sent, const Services& services) {
  return Context(std::move(message), Params(), "r", [&sent](OutboundMessage out) { sent.push_back(std::move(out)); },
                 services);
}

}  // namespace

TEST_CASE("answers: encoded and decoded back to the same values, binary and MQTT 5 properties included") {
  const auto answers = sample_answers();
  const auto bytes = encode_answers(answers);
  const auto decoded = decode_answers(bytes);
  REQUIRE(decoded);
  CHECK(same(*decoded, answers));
  const auto none = decode_answers(encode_answers({}));
  REQUIRE(none);
  CHECK(none->empty());
  // The layout is ours and fixed: version 1, a count, then the first answer's flags (retain, response
  // topic, correlation data) and QoS.
  CHECK(bytes.substr(0, 7) == std::string("\x01\x00\x00\x00\x03\x0d\x01", 7));
}

TEST_CASE("answers: truncated, trailing, mislabelled or oversized bytes decode to nothing and never crash") {
  const auto bytes = encode_answers(sample_answers());
  for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decode_answers(bytes.substr(0, n)));
  CHECK_FALSE(decode_answers(bytes + "x"));
  auto other_version = bytes;
  other_version[0] = 2;
  CHECK_FALSE(decode_answers(other_version));
  CHECK_FALSE(decode_answers(std::string("\x01\xff\xff\xff\xff", 5)));  // four billion answers promised
  auto unknown_flag = bytes;
  unknown_flag[5] = static_cast<char>(unknown_flag[5] | 0x10);  // found by scripts/fuzz.sh replay
  CHECK_FALSE(decode_answers(unknown_flag));
  auto bad_qos = bytes;
  bad_qos[6] = 3;
  CHECK_FALSE(decode_answers(bad_qos));
  auto long_topic = bytes;
  long_topic[7] = '\x7f';  // the first topic's length, far past the end
  CHECK_FALSE(decode_answers(long_topic));
  CHECK_FALSE(decode_answers("done"));
}

TEST_CASE("context: what publish and reply send is recorded once asked, and a replay answers this copy's request") {
  Services services;
  std::vector<OutboundMessage> sent;
  InboundMessage first{"jobs/1", "{}", 1, false, "replies/a", "first", {}, {}};
  auto ctx = context_for(first, sent, services);
  ctx.publish("before", std::string("not recorded"));
  ctx.record_answers();
  ctx.publish("answers/1", std::string("a"), {.qos = 1, .user_properties = {{"k", "v"}}});
  CHECK(ctx.reply(std::string("r")));
  REQUIRE(ctx.recorded_answers().size() == 2);
  CHECK_FALSE(ctx.recorded_answers()[0].reply);
  CHECK(ctx.recorded_answers()[1].reply);
  CHECK(ctx.recorded_answers()[1].message.options.correlation_data == std::optional<std::string>("first"));
  CHECK_FALSE(ctx.replayed());

  std::vector<OutboundMessage> resent;
  InboundMessage copy{"jobs/1", "{}", 1, false, "replies/b", std::string("2\0", 2), {}, {}};
  auto duplicate = context_for(copy, resent, services);
  duplicate.replay(ctx.recorded_answers());
  CHECK(duplicate.replayed());
  REQUIRE(resent.size() == 2);
  CHECK(resent[0].topic == "answers/1");
  CHECK(resent[0].options.user_properties == UserProperties{{"k", "v"}});
  CHECK(resent[1].topic == "replies/b");
  CHECK(resent[1].payload == "r");
  CHECK(resent[1].options.correlation_data == std::optional<std::string>(std::string("2\0", 2)));

  std::vector<OutboundMessage> unanswered;
  InboundMessage no_request{"jobs/1", "{}", 1, false, std::nullopt, std::nullopt, {}, {}};
  auto plain = context_for(no_request, unanswered, services);
  plain.replay(ctx.recorded_answers());
  REQUIRE(unanswered.size() == 1);  // the reply has nowhere to go
  CHECK(unanswered[0].topic == "answers/1");
}
