#include <catch2/catch.hpp>

#include <random>

#include "core/routing/router.hpp"
#include "core/routing/topic_filter.hpp"

using namespace routemq;

namespace {

std::string matched_pattern(const Router& router, std::string_view topic) {
  auto match = router.match(topic);
  return match ? router.pattern(match->route).text() : "none";
}

}  // namespace

TEST_CASE("the most specific route wins, level by level from the left") {
  Router router;
  for (const char* pattern : {"devices/#", "devices/{id}/{kind}", "devices/{id}/telemetry", "devices/42/{kind}",
                              "devices/42/telemetry", "+/42/telemetry/#"})
    router.add(pattern);
  CHECK(matched_pattern(router, "devices/42/telemetry") == "devices/42/telemetry");
  CHECK(matched_pattern(router, "devices/42/status") == "devices/42/{kind}");
  CHECK(matched_pattern(router, "devices/7/telemetry") == "devices/{id}/telemetry");
  CHECK(matched_pattern(router, "devices/7/status") == "devices/{id}/{kind}");
  CHECK(matched_pattern(router, "devices/7/status/deep") == "devices/#");
  CHECK(matched_pattern(router, "devices") == "devices/#");  // '#' also matches the parent
  CHECK(matched_pattern(router, "other/42/telemetry") == "+/42/telemetry/#");
  CHECK(matched_pattern(router, "other/42/status") == "none");
}

TEST_CASE("registration order never changes the winner") {
  std::vector<std::string> patterns{"a/#", "a/+/c", "a/b/+", "a/b/c", "+/b/c", "#", "a/b/c/#"};
  std::vector<std::string> topics{"a/b/c", "a/x/c", "a/b/x", "x/b/c", "a/b/c/d", "z", "a"};
  std::vector<std::string> expected;
  {
    Router router;
    for (const auto& p : patterns) router.add(p);
    for (const auto& t : topics) expected.push_back(matched_pattern(router, t));
  }
  CHECK(expected == std::vector<std::string>{"a/b/c", "a/+/c", "a/b/+", "+/b/c", "a/b/c/#", "#", "a/#"});
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(patterns.begin(), patterns.end(), random);
    Router router;
    for (const auto& p : patterns) router.add(p);
    for (std::size_t i = 0; i < topics.size(); ++i) CHECK(matched_pattern(router, topics[i]) == expected[i]);
  }
}

TEST_CASE("backtracking finds a less specific route when the specific branch dead-ends") {
  Router router;
  router.add("a/b/c");
  router.add("a/+/d");
  router.add("+/b/e");
  CHECK(matched_pattern(router, "a/b/d") == "a/+/d");
  CHECK(matched_pattern(router, "a/b/e") == "+/b/e");
  CHECK(matched_pattern(router, "a/b/f") == "none");
}

TEST_CASE("params are captured by name, multi-level ones joined by '/'") {
  Router router;
  router.add("devices/{device_id}/commands/{command}");
  router.add("files/{path...}");
  router.add("raw/+/{x}/#");
  auto match = router.match("devices/d-1/commands/reboot");
  REQUIRE(match);
  CHECK(match->params.at("device_id") == "d-1");
  CHECK(match->params.at("command") == "reboot");
  CHECK(match->params.size() == 2);
  CHECK_FALSE(match->params.get("missing"));
  CHECK_THROWS_WITH(match->params.at("missing"), Catch::Contains("no route parameter named 'missing'"));

  CHECK(router.match("files/a/b/c.json")->params.at("path") == "a/b/c.json");
  CHECK(router.match("files/x")->params.at("path") == "x");
  CHECK(router.match("files")->params.at("path").empty());   // the parent, like '#'
  CHECK(router.match("files//x/")->params.at("path") == "/x/");
  auto raw = router.match("raw/1/2/3/4");
  REQUIRE(raw);
  CHECK(raw->params.size() == 1);
  CHECK(raw->params.at("x") == "2");
}

TEST_CASE("literal text is matched literally") {
  Router router;
  router.add("a.b/*/(x)|y/[z]");
  CHECK(matched_pattern(router, "a.b/*/(x)|y/[z]") == "a.b/*/(x)|y/[z]");
  CHECK(matched_pattern(router, "aXb/*/(x)|y/[z]") == "none");
  CHECK(matched_pattern(router, "a.b/anything/(x)|y/[z]") == "none");
  CHECK(matched_pattern(router, "a.b/*/x/z") == "none");
}

TEST_CASE("duplicate routes are rejected naming both patterns") {
  Router router;
  router.add("a/{x}/c");
  CHECK_THROWS_WITH(router.add("a/+/c"), Catch::Contains("route pattern 'a/+/c' duplicates 'a/{x}/c'"));
  CHECK_THROWS_WITH(router.add("a/{y}/c"), Catch::Contains("duplicates 'a/{x}/c'"));
  router.add("a/#");
  CHECK_THROWS_WITH(router.add("a/{rest...}"), Catch::Contains("duplicates 'a/#'"));
  router.add("a");  // a different shape: the parent itself
  CHECK_THROWS_AS(router.add("a/{x"), PatternError);
  CHECK(router.size() == 3);
}

TEST_CASE("$-topics only match routes that name their first level") {
  Router router;
  router.add("#");
  router.add("+/broker/load");
  router.add("$SYS/broker/{metric}");
  CHECK(matched_pattern(router, "$SYS/broker/load") == "$SYS/broker/{metric}");
  CHECK(matched_pattern(router, "$SYS/other") == "none");
  CHECK(matched_pattern(router, "$share/g/x") == "none");
  CHECK(matched_pattern(router, "x/broker/load") == "+/broker/load");
  CHECK(matched_pattern(router, "x/$SYS") == "#");  // only the first level is special
}

TEST_CASE("invalid topics match nothing") {
  Router router;
  router.add("#");
  CHECK_FALSE(router.match(""));
  CHECK_FALSE(router.match("a/+"));
  CHECK_FALSE(router.match("a/#"));
  CHECK_FALSE(router.match(std::string_view("a\0", 2)));
  CHECK(router.match("/"));  // empty levels are legal in topics
}

TEST_CASE("deep topics") {
  Router router;
  std::string pattern;
  std::string topic;
  for (int i = 0; i < 200; ++i) {
    pattern += (i ? "/" : "") + std::string(i % 2 ? "+" : "l");
    topic += (i ? "/" : "") + std::string(i % 2 ? "v" : "l");
  }
  router.add(pattern);
  CHECK(router.match(topic));
  CHECK_FALSE(router.match(topic + "/extra"));
}

// A brute-force reference: every pattern that matches as an MQTT filter, ranked level by level
// (literal < single-level < multi-level; a pattern ending exactly where the topic ends ranks first).
std::optional<std::string> reference_match(const std::vector<TopicPattern>& patterns, std::string_view topic) {
  auto rank = [](const TopicPattern& p) {
    std::vector<int> ranks;
    for (const auto& level : p.levels())
      ranks.push_back(level.kind == LevelKind::literal ? 1 : level.is_single() ? 2 : 3);
    ranks.push_back(0);  // the end of the pattern
    return ranks;
  };
  const TopicPattern* best = nullptr;
  for (const auto& p : patterns) {
    if (!topic_matches_filter(p.filter(), topic)) continue;
    if (!best || rank(p) < rank(*best)) best = &p;
  }
  if (!best) return std::nullopt;
  return best->text();
}

TEST_CASE("the trie agrees with a brute-force reference on hundreds of generated routes") {
  std::mt19937 random(2024);
  auto pick = [&](const std::vector<std::string>& choices) {
    return choices[std::uniform_int_distribution<std::size_t>(0, choices.size() - 1)(random)];
  };
  const std::vector<std::string> pattern_levels{"a", "b", "c", "$s", "+", "{p}", "#"};
  const std::vector<std::string> topic_levels{"a", "b", "c", "d", "", "$s"};
  Router router;
  std::vector<TopicPattern> registered;
  for (int i = 0; i < 600; ++i) {
    const int depth = std::uniform_int_distribution<int>(1, 5)(random);
    std::string pattern;
    int params = 0;
    for (int level = 0; level < depth; ++level) {
      std::string text = pick(pattern_levels);
      if (text == "#" && level + 1 < depth) text = "+";
      if (text == "{p}") text = "{p" + std::to_string(params++) + "}";
      pattern += (level ? "/" : "") + text;
    }
    try {
      router.add(pattern);
      registered.push_back(TopicPattern::parse(pattern));
    } catch (const PatternError& e) {
      CHECK_THAT(e.what(), Catch::Contains("duplicates"));
    }
  }
  REQUIRE(registered.size() > 300);
  int matched = 0;
  for (int i = 0; i < 5000; ++i) {
    const int depth = std::uniform_int_distribution<int>(1, 6)(random);
    std::string topic;
    for (int level = 0; level < depth; ++level) topic += (level ? "/" : "") + pick(topic_levels);
    const auto expected = reference_match(registered, topic);
    const auto actual = router.match(topic);
    INFO("topic '" << topic << "'");
    REQUIRE(expected.has_value() == actual.has_value());
    if (actual) {
      ++matched;
      REQUIRE(router.pattern(actual->route).text() == *expected);
    }
  }
  CHECK(matched > 1000);
}

TEST_CASE("route ids are registration indexes and params keep pattern order") {
  Router router;
  CHECK(router.size() == 0);
  CHECK_FALSE(router.match("a"));
  CHECK(router.add("x/{b}/{a}/{rest...}") == 0);
  CHECK(router.add("y") == 1);
  CHECK(router.size() == 2);
  CHECK(router.pattern(1).text() == "y");
  CHECK_THROWS_AS(router.pattern(2), std::out_of_range);
  CHECK(router.find("y") == RouteId{1});

  auto match = router.match("x/1/2/3/4");
  REQUIRE(match);
  CHECK(match->route == 0);
  std::vector<std::pair<std::string, std::string>> seen(match->params.begin(), match->params.end());
  CHECK(seen == std::vector<std::pair<std::string, std::string>>{{"b", "1"}, {"a", "2"}, {"rest", "3/4"}});
  CHECK(router.match("y")->params.empty());
}

TEST_CASE("a moved router keeps its routes") {
  Router first;
  first.add("a/{x}");
  Router second = std::move(first);
  REQUIRE(second.match("a/1"));
  CHECK(second.match("a/1")->params.at("x") == "1");
}
