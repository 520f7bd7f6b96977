#include "middleware/rejection.hpp"

namespace routemq::middleware {

Rejection Rejection::read(SectionReader& reader, const ConfigNode& options) {
  Rejection rejection;
  if (auto topic = reader.optional_string("reject_topic", {.non_empty = true})) {
    if (*topic == "response") rejection.to_response_topic_ = true;
    else rejection.topic_ = KeyTemplate::from_option(options, "reject_topic", *topic);
  }
  return rejection;
}

void Rejection::send(Context& ctx, nlohmann::json body) const {
  if (const auto* json = ctx.try_json(); json && json->is_object() && json->contains("msg_id"))
    body["msg_id"] = (*json)["msg_id"];
  if (to_response_topic_ && ctx.response_topic()) {
    ctx.reply(body);
  } else if (topic_) {
    if (auto topic = topic_->render(ctx); topic.ok()) ctx.publish(topic.key, body, {.qos = 1});
  }
}

}  // namespace routemq::middleware
