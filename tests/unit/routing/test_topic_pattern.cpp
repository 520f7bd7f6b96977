#include <catch2/catch.hpp>

#include "core/routing/topic_pattern.hpp"

using namespace routemq;

TEST_CASE("patterns parse every level kind") {
  auto pattern = TopicPattern::parse("devices/{device_id}/+/x.y*(z)/{rest...}");
  REQUIRE(pattern.levels().size() == 5);
  CHECK(pattern.levels()[0].kind == LevelKind::literal);
  CHECK(pattern.levels()[0].text == "devices");
  CHECK(pattern.levels()[1].kind == LevelKind::param);
  CHECK(pattern.levels()[1].text == "device_id");
  CHECK(pattern.levels()[2].kind == LevelKind::single_wildcard);
  CHECK(pattern.levels()[3].kind == LevelKind::literal);
  CHECK(pattern.levels()[3].text == "x.y*(z)");
  CHECK(pattern.levels()[4].kind == LevelKind::multi_param);
  CHECK(pattern.levels()[4].text == "rest");
  CHECK(pattern.filter() == "devices/+/+/x.y*(z)/#");
  CHECK(pattern.param_names() == std::vector<std::string>{"device_id", "rest"});
  CHECK(pattern.text() == "devices/{device_id}/+/x.y*(z)/{rest...}");
}

TEST_CASE("filters and shapes") {
  CHECK(TopicPattern::parse("a").filter() == "a");
  CHECK(TopicPattern::parse("#").filter() == "#");
  CHECK(TopicPattern::parse("{all...}").filter() == "#");
  CHECK(TopicPattern::parse("$SYS/broker/{x}").filter() == "$SYS/broker/+");
  CHECK(TopicPattern::parse("a/{x}").shape() == TopicPattern::parse("a/+").shape());
  CHECK(TopicPattern::parse("a/{x...}").shape() == TopicPattern::parse("a/#").shape());
  CHECK(TopicPattern::parse("a/{x}").shape() != TopicPattern::parse("a/x").shape());
  CHECK(TopicPattern::parse("_a/{_b1}").param_names() == std::vector<std::string>{"_b1"});
}

TEST_CASE("every invalid pattern is rejected with a message naming the pattern and the problem") {
  auto error_of = [](std::string_view text) -> std::string {
    try {
      TopicPattern::parse(text);
    } catch (const PatternError& e) {
      return e.what();
    }
    return "no error";
  };
  using Catch::Contains;
  CHECK(error_of("") == "route pattern '': is empty");
  CHECK_THAT(error_of("/a"), Contains("route pattern '/a': level 1 is empty"));
  CHECK_THAT(error_of("a/"), Contains("route pattern 'a/': level 2 is empty"));
  CHECK_THAT(error_of("a//b"), Contains("level 2 is empty"));
  CHECK_THAT(error_of("a/#/b"), Contains("route pattern 'a/#/b': level 2 '#' matches the rest of the topic, so it must be the last level"));
  CHECK_THAT(error_of("a/{r...}/b"), Contains("level 2 '{r...}' matches the rest of the topic"));
  CHECK_THAT(error_of("a+/b"), Contains("level 1 'a+' mixes a wildcard with text"));
  CHECK_THAT(error_of("a/b#"), Contains("level 2 'b#' mixes a wildcard with text"));
  CHECK_THAT(error_of("files/{name}.json"),
             Contains("route pattern 'files/{name}.json': level 2 '{name}.json' mixes a parameter with text; a "
                      "parameter must be a whole level"));
  CHECK_THAT(error_of("x{a}"), Contains("mixes a parameter with text"));
  CHECK_THAT(error_of("a/{b"), Contains("level 2 '{b' has an unbalanced '{' or '}'"));
  CHECK_THAT(error_of("a/b}"), Contains("unbalanced"));
  CHECK_THAT(error_of("a/}b{"), Contains("unbalanced"));
  CHECK_THAT(error_of("a/{}"), Contains("level 2 '{}' has an invalid parameter name"));
  CHECK_THAT(error_of("a/{1x}"), Contains("invalid parameter name"));
  CHECK_THAT(error_of("a/{x-y}"), Contains("invalid parameter name"));
  CHECK_THAT(error_of("a/{...}"), Contains("invalid parameter name"));
  CHECK_THAT(error_of("a/{{x}}"), Contains("invalid parameter name"));
  CHECK_THAT(error_of("{id}/x/{id}"), Contains("route pattern '{id}/x/{id}': parameter 'id' appears twice"));
  CHECK_THAT(error_of("{id}/{id...}"), Contains("parameter 'id' appears twice"));
  CHECK_THAT(error_of("$share/g/a"), Contains("starts with '$share'") && Contains("mark it shared"));
  CHECK_THAT(error_of(std::string_view("a\0b", 3)), Contains("contains a NUL character"));
}
