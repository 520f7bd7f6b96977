// The sans-IO half of a pipeline that keeps its replies: our own encoded commands read back, and the
// script's kept replies decoded, byte by byte and against hostile bytes.
#include <catch2/catch.hpp>

#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/protocol/kept_replies.hpp"

using namespace routemq::redis;

TEST_CASE("kept replies: our encoded commands decode back to their arguments, binary ones included") {
  std::string bytes;
  append_command(bytes, {"SET", "k", std::string("a\r\n\0b", 5)});
  append_command(bytes, {"INCR", "n"});
  append_command(bytes, {"PING"});
  const auto commands = decode_commands(bytes);
  REQUIRE(commands);
  REQUIRE(commands->size() == 3);
  CHECK((*commands)[0] == std::vector<std::string>{"SET", "k", std::string("a\r\n\0b", 5)});
  CHECK((*commands)[1] == std::vector<std::string>{"INCR", "n"});
  CHECK((*commands)[2] == std::vector<std::string>{"PING"});
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    const auto prefix = decode_commands(bytes.substr(0, n));
    if (prefix) CHECK(prefix->size() < 3);  // a cut at a command's end reads the whole ones, never more
  }
  CHECK_FALSE(decode_commands("+OK\r\n"));
  CHECK_FALSE(decode_commands("*1\r\n$99\r\nshort\r\n"));
  CHECK_FALSE(decode_commands("*99999999999999999999\r\n"));
  CHECK_FALSE(decode_commands("*0\r\n"));  // found by scripts/fuzz.sh replay: no command has no name
}

TEST_CASE("kept replies: every reply type decodes as the script wrote it") {
  const std::string kept = std::string("a7;i-42;s5;a\0;:bno2;OKe9;ERR wrongi0;a2;s1;xa0;", 47);
  const auto replies = decode_kept_replies(kept);
  REQUIRE(replies);
  REQUIRE(replies->size() == 7);
  CHECK((*replies)[0] == Reply::number(-42));
  CHECK((*replies)[1] == Reply::string(std::string("a\0;:b", 5)));
  CHECK((*replies)[2] == Reply::nil());
  CHECK((*replies)[3] == Reply::status("OK"));
  CHECK((*replies)[4] == Reply::error("ERR wrong"));
  CHECK((*replies)[5] == Reply::number(0));
  CHECK((*replies)[6] == Reply::array({Reply::string("x"), Reply::array({})}));
  CHECK(decode_kept_replies("a0;") == std::optional<std::vector<Reply>>(std::vector<Reply>{}));
}

TEST_CASE("kept replies: truncated, trailing, mislabelled or deeply nested bytes decode to nothing") {
  const std::string kept = "a3;i7;s3;abcn";
  REQUIRE(decode_kept_replies(kept));
  for (std::size_t n = 0; n < kept.size(); ++n) CHECK_FALSE(decode_kept_replies(kept.substr(0, n)));
  CHECK_FALSE(decode_kept_replies(kept + "n"));
  CHECK_FALSE(decode_kept_replies("a1;x"));
  CHECK_FALSE(decode_kept_replies("a1;i;"));
  CHECK_FALSE(decode_kept_replies("a1;i12x;"));
  CHECK_FALSE(decode_kept_replies("a99999;n"));
  CHECK_FALSE(decode_kept_replies("a1;s99;abc"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "a1;";
  deep += "n";
  CHECK_FALSE(decode_kept_replies(deep));
}
