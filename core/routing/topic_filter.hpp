#pragma once
// Plain MQTT topic-filter semantics (MQTT 3.1.1 section 4.7), for whitelists and the like:
// `+` matches exactly one level (also an empty one), `#` the rest including the parent (`a/#` matches `a`),
// and wildcards at the first level never match topics starting with '$' (`#` does not match `$SYS/x`).
#include <string_view>

namespace routemq {

bool topic_matches_filter(std::string_view filter, std::string_view topic);

// A topic a client may publish to: not empty, no '+' or '#', no NUL, at most 65535 bytes.
bool is_valid_topic(std::string_view topic);

}  // namespace routemq
