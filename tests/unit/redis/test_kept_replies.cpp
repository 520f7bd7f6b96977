// The sans-IO half of a pipeline that keeps its replies: our own encoded commands read back, and the
// script's kept replies decoded, byte by byte and against hostile bytes.
#include <catch2/catch.hpp>

#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/protocol/kept_replies.hpp"

using namespace routemq::redis;

TEST_CASE("kept replies: our encoded commands split into their words as encoded, binary ones included") {
  std::string bytes;
  append_command(bytes, {"SET", "k", std::string("a\r\n\0b", 5)});
  append_command(bytes, {"INCR", "n"});
  append_command(bytes, {"PING"});
  const auto commands = split_commands(bytes);
  REQUIRE(commands);
  REQUIRE(commands->size() == 3);
  CHECK((*commands)[0] == EncodedCommand{3, std::string_view("$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n", 27)});
  CHECK((*commands)[1] == EncodedCommand{2, "$4\r\nINCR\r\n$1\r\nn\r\n"});
  CHECK((*commands)[2] == EncodedCommand{1, "$4\r\nPING\r\n"});
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    const auto prefix = split_commands(bytes.substr(0, n));
    if (prefix) CHECK(prefix->size() < 3);  // a cut at a command's end splits the whole ones, never more
  }
  CHECK(split_commands("") == std::vector<EncodedCommand>{});
  for (const auto* hostile : {"+OK\r\n", "*1\r\n$99\r\nshort\r\n", "*99999999999999999999\r\n", "*0\r\n", "*-1\r\n",
                              "*1\r\n$-1\r\n", "*1\r\n:1\r\n", "*1\r\n$3\r\nabcXY", "*1\r\n$3\r\nabc", "*1\r\n$\r\n\r\n",
                              "*2\r\n$1\r\na\r\n", "*1\n$1\r\na\r\n"}) {
    INFO(hostile);
    CHECK_FALSE(split_commands(hostile));
  }
}

namespace {

std::string msgpack_bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (const int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

std::string msgpack_with_text(std::string head, std::string_view text) { return head.append(text); }

}  // namespace

TEST_CASE("kept replies: every reply type decodes as Redis would have returned it from the script") {
  std::string kept = msgpack_bytes({0x9c, 0x01, 0xff, 0xcd, 0x01, 0x2c, 0xd1, 0xfe, 0xd4, 0xcf, 0, 0, 1, 0, 0, 0, 0, 0,
                             0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0xa2, 'a', 0, 0xd9, 40});
  kept += std::string(40, 'x');
  kept += msgpack_bytes({0xc2, 0x81, 0xa2, 'o', 'k', 0xa2, 'O', 'K'});
  kept += msgpack_bytes({0x82, 0xb9}) + "ignore_error_stats_update" + msgpack_bytes({0xc3, 0xa3, 'e', 'r', 'r', 0xa5}) + "ERR x";
  kept += msgpack_bytes({0x92, 0x90, 0x91, 0x91, 0x07});  // {{}, {{7}}}
  const auto replies = decode_kept_replies(kept);
  REQUIRE(replies);
  REQUIRE(replies->size() == 12);
  CHECK((*replies)[0] == Reply::number(1));
  CHECK((*replies)[1] == Reply::number(-1));
  CHECK((*replies)[2] == Reply::number(300));
  CHECK((*replies)[3] == Reply::number(-300));
  CHECK((*replies)[4] == Reply::number(1LL << 40));
  CHECK((*replies)[5] == Reply::number(-(1LL << 40)));
  CHECK((*replies)[6] == Reply::string(std::string("a\0", 2)));
  CHECK((*replies)[7] == Reply::string(std::string(40, 'x')));
  CHECK((*replies)[8] == Reply::nil());
  CHECK((*replies)[9] == Reply::status("OK"));
  CHECK((*replies)[10] == Reply::error("ERR x"));
  CHECK((*replies)[11] == Reply::array({Reply::array({}), Reply::array({Reply::array({Reply::number(7)})})}));
  // As Redis converts a script's values: a number that is not whole truncated, true as 1.
  CHECK(decode_kept_replies(msgpack_bytes({0x92, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0, 0xc3})) ==
        std::vector<Reply>{Reply::number(2), Reply::number(1)});
  CHECK(decode_kept_replies(msgpack_bytes({0x90})) == std::vector<Reply>{});
}

TEST_CASE("kept replies: the long forms of strings, arrays and maps, and binary strings") {
  const std::string text(300, 'y');
  CHECK(decode_kept_replies(msgpack_with_text(msgpack_bytes({0x91, 0xda, 0x01, 0x2c}), text)) == std::vector<Reply>{Reply::string(text)});
  CHECK(decode_kept_replies(msgpack_with_text(msgpack_bytes({0x91, 0xdb, 0, 0, 0x01, 0x2c}), text)) == std::vector<Reply>{Reply::string(text)});
  CHECK(decode_kept_replies(msgpack_bytes({0x91, 0xc4, 0x02, 0x00, 0xff})) == std::vector<Reply>{Reply::string(msgpack_bytes({0x00, 0xff}))});
  CHECK(decode_kept_replies(msgpack_bytes({0xdd, 0, 0, 0, 2, 0x05, 0x06})) == std::vector<Reply>{Reply::number(5), Reply::number(6)});
  CHECK(decode_kept_replies(msgpack_bytes({0x91, 0xde, 0, 1, 0xa2, 'o', 'k', 0xa1, 'Q'})) == std::vector<Reply>{Reply::status("Q")});
  CHECK(decode_kept_replies(msgpack_bytes({0x91, 0xce, 0xff, 0xff, 0xff, 0xff})) == std::vector<Reply>{Reply::number(4294967295LL)});
  CHECK(decode_kept_replies(msgpack_bytes({0x91, 0xd0, 0x80})) == std::vector<Reply>{Reply::number(-128)});
}

TEST_CASE("kept replies: truncated, trailing, foreign or deeply nested bytes decode to nothing") {
  const std::string kept = msgpack_bytes({0x93, 0x07, 0xa3, 'a', 'b', 'c', 0xc2});
  REQUIRE(decode_kept_replies(kept));
  for (std::size_t n = 0; n < kept.size(); ++n) CHECK_FALSE(decode_kept_replies(kept.substr(0, n)));
  CHECK_FALSE(decode_kept_replies(kept + msgpack_bytes({0xc2})));                           // trailing
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x07})));                                 // not an array
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xc0})));                           // nil: cmsgpack's too deep
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xc1})));                           // never used
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xd4, 0x01, 0x02})));               // ext
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0x81, 0xa1, 'x', 0x01})));          // a table, neither err nor ok
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0x81, 0x01, 0xa1, 'x'})));          // a key not a string
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0})));  // past long long
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1})));  // NaN
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0})));  // infinity
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})));   // a count past the bytes
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xdf, 0xff, 0xff, 0xff, 0xff})));
  CHECK_FALSE(decode_kept_replies(msgpack_bytes({0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'})));
  CHECK_FALSE(decode_kept_replies(""));
  std::string deep(100, static_cast<char>(0x91));
  deep += msgpack_bytes({0x01});
  CHECK_FALSE(decode_kept_replies(deep));
}
