#pragma once
// `${VAR}` and `${VAR:-default}` in YAML values, resolved against an Environment.
//
//   broker: ${MQTT_HOST}             error if MQTT_HOST is unset or empty
//   broker: ${MQTT_HOST:-localhost}  the default when unset or empty
//   note: costs $${PRICE}            `$${` is a literal `${`
//
// A `$` not followed by `{` is an ordinary character.
#include <string>
#include <string_view>

#include "core/config/environment.hpp"

namespace routemq {

// Throws ConfigError "<where>: ..." naming the variable or the malformed reference.
std::string interpolate(std::string_view text, const Environment& environment, std::string_view where);

}  // namespace routemq
