#pragma once
// What a handler answered while handling a message (its publish() and reply() calls), kept so that a
// duplicate of the message can be answered the same way again (dedupe's `replay: true`), and the bytes
// they are kept as.
//
//   ctx.record_answers();                       // from now on publish() and reply() are kept too
//   ... the handler runs ...
//   std::string kept = encode_answers(ctx.recorded_answers());
//   ... a duplicate arrives ...
//   if (auto answers = decode_answers(kept)) duplicate_ctx.replay(*answers);
//
// The encoding is ours: a version byte, then each answer's flags, QoS, topic, payload, MQTT 5
// properties, lengths as 4-byte big-endian integers. Payloads and properties are bytes, kept as they are.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/handling/message.hpp"

namespace routemq {

struct Answer {
  OutboundMessage message;
  // Sent with reply(): replayed to the duplicate's own response topic, with its own correlation data.
  bool reply = false;
};
using Answers = std::vector<Answer>;

std::string encode_answers(const Answers& answers);
// nullopt when the bytes are not answers this version wrote: truncated, another version, garbage.
std::optional<Answers> decode_answers(std::string_view bytes);

}  // namespace routemq
