// The sans-IO protocol core, fed bytes: no sockets, no server.
#include <catch2/catch.hpp>

#include <array>
#include <optional>
#include <random>

#include <hiredis/hiredis.h>  // the oracle the encoder is checked against

#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/protocol/reply_parser.hpp"
#include "plugins/redis/protocol/request_queue.hpp"

using namespace routemq::redis;

namespace {

// What the queue writes next, as a string.
std::string written(RequestQueue& queue, Clock::time_point at = Clock::now()) {
  std::string bytes = "left over from the last write";
  queue.take_unwritten(at, bytes);
  return bytes;
}

std::vector<Reply> parse_all(ReplyParser& parser) {
  std::vector<Reply> replies;
  while (auto reply = parser.next()) replies.push_back(std::move(*reply));
  return replies;
}

const std::string mixed_stream =
    "+OK\r\n"
    "-ERR wrong\r\n"
    ":-42\r\n"
    "$5\r\nhello\r\n"
    "$-1\r\n"
    "$0\r\n\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n";

std::vector<Reply> mixed_expected() {
  return {Reply::status("OK"),
          Reply::error("ERR wrong"),
          Reply::number(-42),
          Reply::string("hello"),
          Reply::nil(),
          Reply::string(""),
          Reply::nil(),
          Reply::array({}),
          Reply::array({Reply::number(1), Reply::array({Reply::string("a"), Reply::nil()}), Reply::status("x")})};
}

}  // namespace

TEST_CASE("commands are encoded as RESP arrays of bulk strings, binary-safe") {
  CHECK(encode_command({"SET", "k", "v"}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  CHECK(encode_command({"GET", ""}) == "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
  const std::string binary("a\0\r\nb", 5);
  CHECK(encode_command({"SET", "k", binary}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\n" + binary + "\r\n");
  std::string two;
  append_command(two, {"PING"});
  append_command(two, {"PING"});
  CHECK(two == "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
  CHECK_THROWS_AS(encode_command({}), std::invalid_argument);
}

TEST_CASE("commands are encoded byte for byte as hiredis encodes them, lengths of every width") {
  std::mt19937 random(42);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> args{"CMD"};
    const auto count = random() % 12;
    for (std::size_t i = 0; i < count; ++i) {
      std::string arg(random() % 3 == 0 ? random() % 20000 : random() % 12, '\0');
      for (auto& c : arg) c = static_cast<char>(random());
      args.push_back(std::move(arg));
    }
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    const int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), pointers.data(), lengths.data());
    REQUIRE(length > 0);
    const std::string expected(formatted, static_cast<std::size_t>(length));
    redisFreeCommand(formatted);
    REQUIRE(encode_command(args) == expected);
  }
}

TEST_CASE("encoding from views gives the same bytes, with few arguments and with many") {
  const std::string binary("a\0\r\nb", 5);
  const std::array<std::string_view, 3> few{"SET", "k", binary};
  CHECK(encode_views(few) == encode_command({"SET", "k", binary}));
  std::vector<std::string> many{"RPUSH", "list"};
  for (int i = 0; i < 20; ++i) many.push_back("item" + std::to_string(i));  // past the stack arrays
  const std::vector<std::string_view> many_views(many.begin(), many.end());
  CHECK(encode_views(many_views) == encode_command(many));
  CHECK_THAT(encode_command(many), Catch::StartsWith("*22\r\n$5\r\nRPUSH\r\n"));
  CHECK_THROWS_AS(encode_views({}), std::invalid_argument);
  std::string appended = "before";
  append_views(appended, few);
  CHECK(appended == "before" + encode_views(few));
  const std::vector<std::string> big{"SET", "k", std::string(1000, 'x')};  // past the encoder's stack buffer
  append_command(appended, big);
  CHECK(appended == "before" + encode_views(few) + encode_command(big));
}

TEST_CASE("every reply type parses, in one piece") {
  ReplyParser parser;
  parser.feed(mixed_stream);
  CHECK(parse_all(parser) == mixed_expected());
  CHECK_FALSE(parser.failed());
}

TEST_CASE("integers and lengths read the same on both sides of the parser's short-number path") {
  // Up to 18 digits are read by hand, anything else by from_chars: the edges of both, and the
  // signs and overflows only from_chars takes or refuses.
  const std::vector<std::pair<std::string, long long>> integers = {
      {":0\r\n", 0},
      {":007\r\n", 7},
      {":999999999999999999\r\n", 999999999999999999LL},      // 18 digits
      {":1000000000000000000\r\n", 1000000000000000000LL},    // 19
      {":9223372036854775807\r\n", 9223372036854775807LL},    // the largest
      {":-9223372036854775808\r\n", -9223372036854775807LL - 1},
      {":-1\r\n", -1},
  };
  for (const auto& [stream, value] : integers) {
    ReplyParser parser;
    parser.feed(stream);
    INFO(stream);
    const auto reply = parser.next();
    REQUIRE(reply);
    CHECK(reply->type == Reply::Type::integer);
    CHECK(reply->integer == value);
  }
  for (const std::string stream : {":9223372036854775808\r\n", ":+5\r\n", ":5 \r\n", ":-\r\n", "$1x\r\nab\r\n"}) {
    ReplyParser parser;
    parser.feed(stream);
    INFO(stream);
    CHECK_FALSE(parser.next());
    CHECK_THAT(parser.error(), Catch::Contains("is not a number"));
  }
  ReplyParser lengths;
  lengths.feed("$10\r\n0123456789\r\n*2\r\n$0\r\n\r\n$-1\r\n");
  CHECK(lengths.next() == Reply::string("0123456789"));
  CHECK(lengths.next() == Reply::array({Reply::string(""), Reply::nil()}));
}

TEST_CASE("replies split at every byte parse the same") {
  for (std::size_t split = 1; split < mixed_stream.size(); ++split) {
    ReplyParser parser;
    parser.feed(mixed_stream.substr(0, split));
    auto replies = parse_all(parser);
    parser.feed(mixed_stream.substr(split));
    auto rest = parse_all(parser);
    replies.insert(replies.end(), rest.begin(), rest.end());
    INFO("split at " << split);
    REQUIRE(replies == mixed_expected());
  }
}

TEST_CASE("replies fed one byte at a time") {
  ReplyParser parser;
  std::vector<Reply> replies;
  for (char c : mixed_stream) {
    parser.feed(std::string_view(&c, 1));
    auto some = parse_all(parser);
    replies.insert(replies.end(), some.begin(), some.end());
  }
  CHECK(replies == mixed_expected());
}

TEST_CASE("large bulk strings and binary payloads") {
  const std::string big(5 * 1024 * 1024, 'x');
  const std::string binary("\0\r\n$*", 5);
  ReplyParser parser;
  const std::string stream = "$" + std::to_string(big.size()) + "\r\n" + big + "\r\n$5\r\n" + binary + "\r\n";
  for (std::size_t pos = 0; pos < stream.size(); pos += 65536) parser.feed(std::string_view(stream).substr(pos, 65536));
  auto replies = parse_all(parser);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].text.size() == big.size());
  CHECK(replies[0].text == big);
  CHECK(replies[1].text == binary);
}

TEST_CASE("nested arrays up to the parser's depth, also when every byte comes alone") {
  std::string stream;
  for (std::size_t i = 0; i < ReplyParser::max_depth; ++i) stream += "*1\r\n";
  stream += ":7\r\n";
  for (const bool bytewise : {false, true}) {
    ReplyParser parser;
    std::optional<Reply> reply;
    if (bytewise) {
      for (const char c : stream) {
        CHECK_FALSE(reply);
        parser.feed(std::string_view(&c, 1));
        reply = parser.next();
      }
    } else {
      parser.feed(stream);
      reply = parser.next();
    }
    REQUIRE(reply);
    const Reply* level = &*reply;
    for (std::size_t i = 0; i < ReplyParser::max_depth; ++i) {
      REQUIRE(level->is_array());
      level = &level->elements.at(0);
    }
    CHECK(level->integer == 7);
  }
}

TEST_CASE("an array's elements arrive over many feeds and complete it once") {
  ReplyParser parser;
  parser.feed("*3\r\n$1\r\na\r\n");
  CHECK_FALSE(parser.next());
  parser.feed("*2\r\n:1\r\n");
  CHECK_FALSE(parser.next());
  parser.feed(":2\r\n$3\r\nxy");
  CHECK_FALSE(parser.next());
  parser.feed("z\r\n+after\r\n");
  const auto reply = parser.next();
  REQUIRE(reply);
  CHECK(*reply == Reply::array({Reply::string("a"), Reply::array({Reply::number(1), Reply::number(2)}), Reply::string("xyz")}));
  CHECK(parser.next() == Reply::status("after"));
  CHECK_FALSE(parser.next());
  CHECK_FALSE(parser.failed());
}

TEST_CASE("protocol errors are reported and sticky") {
  ReplyParser parser;
  parser.feed("+OK\r\n!garbage\r\n+LATER\r\n");
  auto first = parser.next();
  REQUIRE(first);
  CHECK(first->text == "OK");
  CHECK_FALSE(parser.next());
  CHECK(parser.failed());
  CHECK_THAT(parser.error(), Catch::Contains("Protocol error"));
  parser.feed("+OK\r\n");
  CHECK_FALSE(parser.next());  // sticky: drop the connection

  ReplyParser bad_length;
  bad_length.feed("$abc\r\n");
  CHECK_FALSE(bad_length.next());
  CHECK(bad_length.failed());

  ReplyParser too_deep;
  std::string deep;
  for (std::size_t i = 0; i <= ReplyParser::max_depth; ++i) deep += "*1\r\n";
  too_deep.feed(deep + ":1\r\n");
  CHECK_FALSE(too_deep.next());
  CHECK(too_deep.failed());
  CHECK_THAT(too_deep.error(), Catch::Contains("nested more than 32 deep"));
}

TEST_CASE("hostile replies fail the parser with what was wrong, and allocate nothing they claim") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"$-2\r\n", "a bulk string of length -2"},
      {"$99999999999999\r\n", "a bulk string of length 99999999999999"},
      {"$99999999999999999999999\r\n", "is not a number"},
      {"*-5\r\n", "an array of length -5"},
      {":12x\r\n", "'12x' is not a number"},
      {":\r\n", "'' is not a number"},
      {"\r\n", "an empty line"},
      {"$3\r\nabcd\r\n", "not followed by CRLF"},
      {std::string("\x01OK\r\n"), "got \\x01 as a reply's type byte"},
  };
  for (const auto& [stream, why] : cases) {
    ReplyParser parser;
    parser.feed(stream);
    INFO(stream);
    CHECK_FALSE(parser.next());
    CHECK(parser.failed());
    CHECK_THAT(parser.error(), Catch::Contains(why));
  }
  // An array claiming billions of elements holds only those that came.
  ReplyParser huge;
  huge.feed("*4000000000\r\n:1\r\n:2\r\n");
  CHECK_FALSE(huge.next());
  CHECK_FALSE(huge.failed());
}

TEST_CASE("reply helpers") {
  CHECK(Reply::string("12").as_integer() == 12);
  CHECK_FALSE(Reply::string("1x").as_integer());
  CHECK(Reply::number(3).as_integer() == 3);
  CHECK(Reply::status("OK").as_string() == "OK");
  CHECK_FALSE(Reply::nil().as_string());
  CHECK(Reply::array({Reply::number(1), Reply::string("a"), Reply::nil()}).describe() == "[1, \"a\", (nil)]");
}

TEST_CASE("the request queue writes everything queued at once and completes in FIFO order") {
  RequestQueue queue;
  std::vector<std::string> completed;
  auto record = [&](std::string name) { return [&, name](Result r) { completed.push_back(name + "=" + r.reply.describe()); }; };
  queue.push({"A", 1, record("a")});
  queue.push({"B", 1, record("b")});
  CHECK(queue.has_unwritten());
  CHECK(written(queue) == "AB");
  CHECK_FALSE(queue.has_unwritten());
  queue.push({"C", 2, record("c")});  // e.g. a pipeline of two commands
  CHECK(queue.awaiting_replies() == 2);
  CHECK(written(queue) == "C");
  CHECK(queue.on_reply(Reply::number(1)));
  CHECK(queue.on_reply(Reply::string("x")));
  CHECK(queue.on_reply(Reply::number(2)));
  CHECK(completed == std::vector<std::string>{"a=1", "b=\"x\""});
  CHECK(queue.on_reply(Reply::number(3)));
  CHECK(completed.back() == "c=[2, 3]");
  CHECK(queue.empty());
  CHECK_FALSE(queue.on_reply(Reply::number(9)));  // nobody asked: protocol error
}

TEST_CASE("failing the queue completes written requests with the failure and unwritten ones as unavailable, once") {
  RequestQueue queue;
  std::vector<Failure> failures;
  for (int i = 0; i < 3; ++i) queue.push({"X", 1, [&](Result r) { failures.push_back(r.failure); }});
  written(queue);
  queue.push({"Y", 1, [&](Result r) { failures.push_back(r.failure); }});
  queue.fail_all(Failure::connection_lost, "reset");
  CHECK(failures == std::vector<Failure>{Failure::connection_lost, Failure::connection_lost, Failure::connection_lost,
                                         Failure::unavailable});  // never sent: its outcome is known
  CHECK(queue.empty());
  CHECK_FALSE(queue.has_unwritten());
  queue.fail_all(Failure::timeout, "again");
  CHECK(failures.size() == 4);
}

TEST_CASE("a completion may queue a follow-up request (NOSCRIPT fallback)") {
  RequestQueue queue;
  std::string follow_up_result;
  queue.push({"EVALSHA", 1, [&](Result r) {
                if (r.reply.is_error()) queue.push({"EVAL", 1, [&](Result again) { follow_up_result = again.reply.text; }});
              }});
  written(queue);
  queue.on_reply(Reply::error("NOSCRIPT No matching script"));
  CHECK(written(queue) == "EVAL");
  queue.on_reply(Reply::string("done"));
  CHECK(follow_up_result == "done");
}

TEST_CASE("a request answered with an error or an array is offered back before it completes, and once taken is not completed") {
  std::vector<std::string> offered;
  RequestQueue* the_queue = nullptr;
  RequestQueue queue([&](Request& request, Result& result) {
    offered.push_back(request.bytes + "=" + result.reply.describe());
    if (!result.reply.text.starts_with("MOVED")) return false;
    the_queue->push(std::move(request));  // sent again (here: to the same queue), whole
    return true;
  });
  the_queue = &queue;
  std::vector<std::string> completed;
  auto record = [&](std::string name) { return [&, name](Result r) { completed.push_back(name + "=" + r.reply.describe()); }; };
  queue.push({"GET", 1, record("get")});
  queue.push({"SET", 1, record("set")});
  queue.push({"LRANGE", 1, record("lrange")});
  queue.push({"INCR", 1, record("incr")});
  written(queue);
  CHECK(queue.on_reply(Reply::string("v")));                  // an ordinary reply: completed, not offered
  CHECK(queue.on_reply(Reply::error("MOVED 7 127.0.0.1:7")));  // taken back and queued again
  CHECK(queue.on_reply(Reply::array({Reply::string("a")})));  // offered, not taken: completed
  CHECK(queue.on_reply(Reply::error("WRONGTYPE no")));         // offered, not taken: completed
  CHECK(offered == std::vector<std::string>{"SET=(error) MOVED 7 127.0.0.1:7", "LRANGE=[\"a\"]", "INCR=(error) WRONGTYPE no"});
  CHECK(completed == std::vector<std::string>{"get=\"v\"", "lrange=[\"a\"]", "incr=(error) WRONGTYPE no"});
  CHECK(written(queue) == "SET");  // the request taken back, with its bytes and its completion
  CHECK(queue.on_reply(Reply::status("OK")));
  CHECK(completed.back() == "set=OK");
  CHECK(queue.empty());
}

TEST_CASE("requests expecting no reply complete when written and never hold up the FIFO") {
  RequestQueue queue;
  std::vector<std::string> order;
  queue.push({"GET", 1, [&](Result) { order.push_back("get"); }});
  queue.push({"SUBSCRIBE", 0, [&](Result) { order.push_back("subscribe"); }});
  queue.push({"PING", 1, [&](Result) { order.push_back("ping"); }});
  written(queue);
  CHECK(order.empty());
  queue.on_reply(Reply::string("v"));
  CHECK(order == std::vector<std::string>{"get", "subscribe"});
  queue.on_reply(Reply::status("PONG"));
  CHECK(order.back() == "ping");
}

TEST_CASE("the deadline runs from the oldest written request") {
  RequestQueue queue;
  CHECK_FALSE(queue.oldest_written());
  const auto t0 = Clock::now();
  queue.push({"A", 1, {}});
  CHECK_FALSE(queue.oldest_written());  // not written yet: not waiting on the server
  written(queue, t0);
  queue.push({"B", 1, {}});
  written(queue, t0 + std::chrono::seconds(1));
  CHECK(queue.oldest_written() == t0);
  queue.on_reply(Reply::nil());
  CHECK(queue.oldest_written() == t0 + std::chrono::seconds(1));
}

TEST_CASE("a handshake can go ahead of requests queued before the connection was up") {
  RequestQueue queue;
  std::vector<std::string> order;
  queue.push({"BLPOP", 1, [&](Result) { order.push_back("blpop"); }});
  queue.push_front_unwritten({"AUTH", 1, [&](Result) { order.push_back("auth"); }});
  CHECK(written(queue) == "AUTHBLPOP");
  queue.on_reply(Reply::status("OK"));
  queue.on_reply(Reply::nil());
  CHECK(order == std::vector<std::string>{"auth", "blpop"});
}
