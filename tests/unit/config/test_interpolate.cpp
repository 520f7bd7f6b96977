#include <catch2/catch.hpp>

#include "core/config/config_error.hpp"
#include "core/config/interpolate.hpp"

using namespace routemq;
using Vars = std::map<std::string, std::string>;

TEST_CASE("interpolate substitutes variables and defaults") {
  const Environment env(Vars{{"HOST", "broker.local"}, {"EMPTY", ""}, {"PORT", "1884"}});
  CHECK(interpolate("${HOST}", env, "f") == "broker.local");
  CHECK(interpolate("tcp://${HOST}:${PORT}/x", env, "f") == "tcp://broker.local:1884/x");
  CHECK(interpolate("${MISSING:-fallback}", env, "f") == "fallback");
  CHECK(interpolate("${EMPTY:-fallback}", env, "f") == "fallback");  // empty counts as unset
  CHECK(interpolate("${MISSING:-}", env, "f").empty());
  CHECK(interpolate("${HOST:-unused}", env, "f") == "broker.local");
  CHECK(interpolate("${MISSING:-a:-b}", env, "f") == "a:-b");
}

TEST_CASE("interpolate leaves plain text and escapes alone") {
  const Environment env(Vars{{"X", "1"}});
  CHECK(interpolate("no variables", env, "f") == "no variables");
  CHECK(interpolate("costs $5", env, "f") == "costs $5");
  CHECK(interpolate("$${X}", env, "f") == "${X}");
  CHECK(interpolate("$X", env, "f") == "$X");
  CHECK(interpolate("", env, "f").empty());
}

TEST_CASE("interpolate errors name the place and the variable") {
  const Environment env;
  CHECK_THROWS_MATCHES(interpolate("${NOPE}", env, "app.yaml:3:9: mqtt.broker"), ConfigError,
                       Catch::Matchers::Message("app.yaml:3:9: mqtt.broker: environment variable NOPE is not set "
                                                "(use ${NOPE:-default} for a default)"));
  CHECK_THROWS_WITH(interpolate("${unterminated", env, "w"), Catch::Contains("unterminated '${'"));
  CHECK_THROWS_WITH(interpolate("${1BAD}", env, "w"), Catch::Contains("'${1BAD}' is not a valid variable reference"));
  CHECK_THROWS_WITH(interpolate("${}", env, "w"), Catch::Contains("not a valid variable reference"));
  CHECK_THROWS_WITH(interpolate("${A B}", env, "w"), Catch::Contains("not a valid variable reference"));
}
