#include <catch2/catch.hpp>

#include "core/routing/topic_filter.hpp"

using namespace routemq;

TEST_CASE("MQTT filter matching follows the specification's examples") {
  // MQTT 3.1.1 section 4.7.1.2
  CHECK(topic_matches_filter("sport/tennis/player1/#", "sport/tennis/player1"));
  CHECK(topic_matches_filter("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  CHECK(topic_matches_filter("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  CHECK(topic_matches_filter("sport/#", "sport"));
  CHECK(topic_matches_filter("#", "sport/tennis"));
  // 4.7.1.3
  CHECK(topic_matches_filter("sport/tennis/+", "sport/tennis/player1"));
  CHECK(topic_matches_filter("sport/tennis/+", "sport/tennis/player2"));
  CHECK_FALSE(topic_matches_filter("sport/tennis/+", "sport/tennis/player1/ranking"));
  CHECK_FALSE(topic_matches_filter("sport/+", "sport"));
  CHECK(topic_matches_filter("sport/+", "sport/"));
  CHECK(topic_matches_filter("+/+", "/finance"));
  CHECK(topic_matches_filter("/+", "/finance"));
  CHECK_FALSE(topic_matches_filter("+", "/finance"));
  // 4.7.2: wildcards at the first level never match $-topics
  CHECK_FALSE(topic_matches_filter("#", "$SYS/monitor/Clients"));
  CHECK_FALSE(topic_matches_filter("+/monitor/Clients", "$SYS/monitor/Clients"));
  CHECK(topic_matches_filter("$SYS/#", "$SYS/monitor/Clients"));
  CHECK(topic_matches_filter("$SYS/monitor/+", "$SYS/monitor/Clients"));
}

TEST_CASE("filter matching is literal and exact") {
  CHECK(topic_matches_filter("a/b", "a/b"));
  CHECK_FALSE(topic_matches_filter("a/b", "a/bc"));
  CHECK_FALSE(topic_matches_filter("a/b", "a/b/c"));
  CHECK_FALSE(topic_matches_filter("a/b/c", "a/b"));
  CHECK_FALSE(topic_matches_filter("a.b", "aXb"));
  CHECK_FALSE(topic_matches_filter("a/*", "a/b"));
  CHECK_FALSE(topic_matches_filter("", "a"));
  CHECK_FALSE(topic_matches_filter("a/#", "a/+"));  // not a valid topic
}

TEST_CASE("valid topics") {
  CHECK(is_valid_topic("a"));
  CHECK(is_valid_topic("/"));
  CHECK(is_valid_topic("a//b"));
  CHECK_FALSE(is_valid_topic(""));
  CHECK_FALSE(is_valid_topic("a/+"));
  CHECK_FALSE(is_valid_topic("a/#"));
  CHECK_FALSE(is_valid_topic(std::string_view("a\0b", 3)));
  CHECK_FALSE(is_valid_topic(std::string(65536, 'a')));
  CHECK(is_valid_topic(std::string(65535, 'a')));
}
