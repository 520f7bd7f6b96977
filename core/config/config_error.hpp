#pragma once
// The one exception configuration code throws. Its message always says where (file:line:column or the
// environment variable), which key, the value (redacted for secrets) and what was expected, e.g.
//   config/app.yaml:7:9: mqtt.port: expected an integer between 1 and 65535 (got 'abc')
//   environment variable MQTT_PORT='abc': expected an integer between 1 and 65535 (overrides mqtt.port)
#include <stdexcept>
#include <string>

namespace routemq {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace routemq
