// Commands as values (plugins/redis/commands): their bytes, keys, slots, places, reads and decoders,
// with no socket and no server.
#include <catch2/catch.hpp>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/commands/commands.hpp"
#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/encoder.hpp"

using namespace routemq::redis;
using namespace std::chrono_literals;

namespace {

const KeySpace plain("app:", "", false);
const KeySpace scoped_on_cluster("app:", "tenant:7:", true);

Result reply_of(Reply reply) { return Result::success(std::move(reply)); }
Result unavailable() { return Result::failed(Failure::unavailable, "down"); }

}  // namespace

TEST_CASE("a command's bytes are its words in RESP, its keys prefixed by the key space") {
  CHECK(cmd::get(plain, "device:1").bytes() == encode_command({"GET", "app:device:1"}));
  CHECK(cmd::hincrby(scoped_on_cluster, "stats", "n", -3).bytes() ==
        encode_command({"HINCRBY", "app:tenant:7:stats", "n", "-3"}));
  CHECK(cmd::zadd(plain, "board", {{1.5, "ann"}, {2, "bob"}}).bytes() ==
        encode_command({"ZADD", "app:board", "1.5", "ann", "2", "bob"}));
  CHECK(cmd::rename(plain, "a", "b").bytes() == encode_command({"RENAME", "app:a", "app:b"}));
  CHECK(cmd::publish(plain, "news", "hi").bytes() == encode_command({"PUBLISH", "news", "hi"}));  // a channel is no key
  const std::string binary("a\0b\r\n", 5);
  CHECK(cmd::set(plain, binary, binary, {}, std::nullopt).bytes() == encode_command({"SET", "app:" + binary, binary}));
}

TEST_CASE("a script called over a request's commands gets their words as they were encoded, each after its count") {
  std::string request;
  append_command(request, {"SET", "app:k", std::string("a\r\n\0b", 5)});
  append_command(request, {"PING"});
  const auto commands = split_commands(request);
  REQUIRE(commands);
  CHECK(cmd::evalsha_over(plain, "f00", {"marker"}, {"60000", "p:x"}, *commands).bytes() ==
        encode_command({"EVALSHA", "f00", "1", "app:marker", "60000", "p:x", "3", "SET", "app:k",
                        std::string("a\r\n\0b", 5), "1", "PING"}));
  CHECK(cmd::eval_over(plain, "return 1", {}, {}, {}).bytes() == encode_command({"EVAL", "return 1", "0"}));
}

TEST_CASE("SET's options and the default TTL make the words of the one reading") {
  CHECK(cmd::set(plain, "k", "v", {}, 60s).bytes() == encode_command({"SET", "app:k", "v", "EX", "60"}));
  CHECK(cmd::set(plain, "k", "v", {.px = 1500ms, .nx = true}, 60s).bytes() ==
        encode_command({"SET", "app:k", "v", "PX", "1500", "NX"}));
  CHECK(cmd::set(plain, "k", "v", {.xx = true, .keepttl = true}, 60s).bytes() ==
        encode_command({"SET", "app:k", "v", "KEEPTTL", "XX"}));
  CHECK(cmd::set(plain, "k", "v", {.ex = 5s}, std::nullopt).bytes() == encode_command({"SET", "app:k", "v", "EX", "5"}));
}

TEST_CASE("on a cluster a command carries its keys' slot, and says when they span slots") {
  CHECK_FALSE(cmd::get(plain, "x").slot());  // one Redis: no slots to name
  const auto get = cmd::get(scoped_on_cluster, "x");
  REQUIRE(get.slot());
  CHECK(*get.slot() == hash_slot("app:tenant:7:x"));
  const auto together = cmd::del(scoped_on_cluster, {"{u1}:a", "{u1}:b"});
  CHECK_FALSE(together.spans_slots());
  CHECK(together.slot() == hash_slot("{u1}"));
  const auto apart = cmd::mget(scoped_on_cluster, {"a", "b", "c"});
  CHECK(apart.spans_slots());
  CHECK_FALSE(apart.slot());  // the cluster splits it by slot
  CHECK_FALSE(cmd::ping(scoped_on_cluster).slot());  // keyless: any master
  CHECK(cmd::ping(scoped_on_cluster).keyless());
  CHECK(cmd::publish(scoped_on_cluster, "news", "x").keyless());
  CHECK_FALSE(get.keyless());
}

TEST_CASE("a command with nothing to send carries its reply, and no round trip is made") {
  const auto none_deleted = cmd::del(plain, {});
  REQUIRE(none_deleted.answered_here());
  CHECK(none_deleted.bytes().empty());
  CHECK(none_deleted.decode(none_deleted.local_result()) == 0);
  CHECK(cmd::hset(plain, "h", std::map<std::string, std::string>{}).answered_here());
  CHECK(cmd::lpush(plain, "l", {}).answered_here());
  CHECK(cmd::sadd(plain, "s", {}).answered_here());
  CHECK(cmd::mget(plain, {}).answered_here());
  CHECK_FALSE(cmd::lpush(plain, "l", {"x"}).answered_here());
}

TEST_CASE("each command's value when Redis is unavailable is its method's documented default") {
  CHECK_FALSE(cmd::get(plain, "k").unavailable_value());
  CHECK_FALSE(cmd::set(plain, "k", "v", {}, std::nullopt).unavailable_value());
  CHECK(cmd::del(plain, {"k"}).unavailable_value() == 0);
  CHECK(cmd::ttl(plain, "k").unavailable_value() == -2);
  CHECK(cmd::pttl(plain, "k").unavailable_value() == -2);
  CHECK(cmd::type(plain, "k").unavailable_value() == "none");
  CHECK_FALSE(cmd::incr(plain, "k").unavailable_value());
  CHECK(cmd::lrange(plain, "k", 0, -1).unavailable_value().empty());
  CHECK(cmd::hgetall(plain, "k").unavailable_value().empty());
  CHECK_FALSE(cmd::ping(plain).unavailable_value());
  CHECK(cmd::evalsha(plain, "abc", {"k"}, {}).unavailable_value().unavailable());
}

TEST_CASE("a command's decoder reads its reply, and an error reply as its default") {
  CHECK(cmd::get(plain, "k").decode(reply_of(Reply::string("v"))) == "v");
  CHECK(cmd::incrbyfloat(plain, "k", 0.5).decode(reply_of(Reply::string("2.5"))) == 2.5);
  CHECK(cmd::zrange_withscores(plain, "z", 0, -1).decode(reply_of(Reply::array({Reply::string("a"), Reply::string("1.5")}))) ==
        std::vector<std::pair<std::string, double>>{{"a", 1.5}});
  CHECK(cmd::hgetall(plain, "h").decode(reply_of(Reply::array({Reply::string("f"), Reply::string("v")}))) ==
        std::map<std::string, std::string>{{"f", "v"}});
  CHECK(cmd::llen(plain, "l").decode(reply_of(Reply::error("WRONGTYPE Operation against a key"))) == 0);
  CHECK(cmd::ping(plain).decode(reply_of(Reply::status("PONG"))));
  const auto popped = cmd::blpop(plain, {"q"}, 1s).decode(reply_of(Reply::array({Reply::string("app:q"), Reply::string("job")})));
  REQUIRE(popped);
  CHECK(popped->second == "job");
}

TEST_CASE("reads are counted by the commands that read values, and places say where a command may run") {
  CHECK(cmd::get(plain, "k").reads() == 1);
  CHECK(cmd::hget(plain, "k", "f").reads() == 1);
  CHECK(cmd::mget(plain, {"a", "b", "c"}).reads() == 3);
  CHECK(cmd::set(plain, "k", "v", {}, std::nullopt).reads() == 0);
  CHECK(cmd::get(plain, "k").place() == CommandPlace::shared);
  CHECK(cmd::blpop(plain, {"q"}, 1s).place() == CommandPlace::leased);  // it blocks its connection
}

TEST_CASE("a command's Result can be taken undecoded, everything else kept") {
  auto raw = cmd::get(scoped_on_cluster, "k").as_result();
  CHECK(raw.bytes() == encode_command({"GET", "app:tenant:7:k"}));
  CHECK(raw.slot() == hash_slot("app:tenant:7:k"));
  CHECK(raw.reads() == 1);
  CHECK(raw.decode(unavailable()).unavailable());
}

TEST_CASE("SCAN matches the key space's prefix literally, its glob characters escaped") {
  const KeySpace odd("a*b:", "[x]:", false);
  CHECK(cmd::scan(odd, "0", "user:*").bytes() ==
        encode_command({"SCAN", "0", "MATCH", "a\\*b:\\[x\\]:user:*", "COUNT", "1000"}));
}

TEST_CASE("a batch joins commands into one request: one slot when they share it, MULTI and EXEC around") {
  CommandBatch same;
  REQUIRE(same.add(cmd::get(scoped_on_cluster, "{d}:a")));
  REQUIRE(same.add(cmd::incr(scoped_on_cluster, "{d}:b")));
  CHECK_FALSE(same.add(cmd::del(scoped_on_cluster, {})));                  // answered here: not sent
  CHECK_FALSE(same.add(cmd::blpop(scoped_on_cluster, {"{d}:q"}, 1s)));   // not for shared connections
  auto request = std::move(same).take();
  CHECK(request.replies() == 2);
  CHECK(request.slot() == hash_slot("{d}"));
  CHECK(request.bytes() == encode_command({"GET", "app:tenant:7:{d}:a"}) + encode_command({"INCR", "app:tenant:7:{d}:b"}));

  CommandBatch mixed;
  mixed.add(cmd::get(scoped_on_cluster, "a"));
  mixed.add(cmd::get(scoped_on_cluster, "b"));
  mixed.add(cmd::ping(scoped_on_cluster));
  const auto spread = std::move(mixed).take();
  CHECK_FALSE(spread.slot());
  REQUIRE(spread.command_slots());  // each command's slot: the cluster groups them without reading keys
  CHECK(*spread.command_slots() == std::vector<std::optional<std::uint16_t>>{
                                       hash_slot("app:tenant:7:a"), hash_slot("app:tenant:7:b"), std::nullopt});

  CommandBatch spanning;  // a command over several slots of its own: the cluster splits it by its keys
  spanning.add(cmd::get(scoped_on_cluster, "a"));
  spanning.add(cmd::mget(scoped_on_cluster, {"a", "b"}));
  CHECK_FALSE(std::move(spanning).take().command_slots());

  CommandBatch one_redis;
  one_redis.add(cmd::get(plain, "a"));
  one_redis.add(cmd::get(plain, "b"));
  CHECK_FALSE(std::move(one_redis).take().command_slots());

  CommandBatch atomic;
  atomic.add(cmd::set(plain, "k", "v", {}, std::nullopt));
  auto transaction = std::move(atomic).take_as_transaction();
  CHECK(transaction.replies() == 3);
  CHECK(transaction.bytes() ==
        encode_command({"MULTI"}) + encode_command({"SET", "app:k", "v"}) + encode_command({"EXEC"}));
}

TEST_CASE("a command is written the same wherever it outgrows the builder's stack buffer") {
  // Every size from a few bytes to past the 256 on the stack: the spill falls in a header, inside a
  // key (whose slot is then read across it) and inside a value.
  for (std::size_t size = 0; size <= 300; ++size) {
    const std::string name = "{t}" + std::string(size, 'k');
    const std::string value(size, 'v');
    INFO("size " << size);
    const auto set = cmd::set(scoped_on_cluster, name, value, {}, 90s);
    REQUIRE(set.bytes() == encode_command({"SET", "app:tenant:7:" + name, value, "EX", "90"}));
    const auto get = cmd::get(scoped_on_cluster, value + name);
    REQUIRE(get.bytes() == encode_command({"GET", "app:tenant:7:" + value + name}));
    REQUIRE(get.slot() == hash_slot("app:tenant:7:" + value + name));
    REQUIRE(cmd::del(scoped_on_cluster, {value + "{t}", name}).slot() == hash_slot("{t}"));
  }
}

TEST_CASE("a builder refuses a command with another number of words than it announced") {
  CHECK_THROWS_AS(CommandBuilder(plain, 0), std::invalid_argument);
  CommandBuilder short_one(plain, 3);
  short_one.word("GET").key("k");
  CHECK_THROWS_AS(short_one.build<Result>(undecoded), std::logic_error);
  CommandBuilder long_one(plain, 1);
  long_one.word("PING");
  CHECK_THROWS_AS(long_one.word("extra"), std::logic_error);
}

TEST_CASE("read-only commands say so, writes do not, and a batch only reads when each of its commands does") {
  CHECK(cmd::get(plain, "a").read_only());
  CHECK(cmd::mget(plain, {"a", "b"}).read_only());
  CHECK(cmd::hgetall(plain, "h").read_only());
  CHECK(cmd::exists(plain, "a").read_only());
  CHECK(cmd::ttl(plain, "a").read_only());
  CHECK(cmd::zscore(plain, "z", "m").read_only());
  CHECK(cmd::sunion(plain, {"s", "t"}).read_only());
  CHECK(cmd::scan(plain, "0", "*").read_only());
  CHECK_FALSE(cmd::set(plain, "a", "v", {}, std::nullopt).read_only());
  CHECK_FALSE(cmd::getdel(plain, "a").read_only());  // reads, and deletes
  CHECK_FALSE(cmd::incr(plain, "n").read_only());
  CHECK_FALSE(cmd::lpop(plain, "l").read_only());
  CHECK_FALSE(cmd::eval(plain, "return 1", {}, {}).read_only());  // a script may write
  CHECK(cmd::get(plain, "a").as_result().read_only());

  CommandBatch reads;
  reads.add(cmd::get(plain, "a"));
  reads.add(cmd::hget(plain, "h", "f"));
  CHECK(std::move(reads).take().read_only());
  CommandBatch with_a_write;
  with_a_write.add(cmd::get(plain, "a"));
  with_a_write.add(cmd::set(plain, "a", "v", {}, std::nullopt));
  CHECK_FALSE(std::move(with_a_write).take().read_only());
  CommandBatch transaction;
  transaction.add(cmd::get(plain, "a"));
  CHECK_FALSE(std::move(transaction).take_as_transaction().read_only());  // MULTI ... EXEC: the master's
}

TEST_CASE("the TTL a SET gives is read as cmd::set writes it: EX before PX, then KEEPTTL, then the default") {
  CHECK(expiry_set_by({.ex = 5s, .px = 700ms}, 60s) == std::chrono::milliseconds(5000));
  CHECK(expiry_set_by({.px = 700ms}, 60s) == std::chrono::milliseconds(700));
  CHECK_FALSE(expiry_set_by({.keepttl = true}, 60s));
  CHECK(expiry_set_by({}, 60s) == std::chrono::milliseconds(60000));
  CHECK_FALSE(expiry_set_by({}, std::nullopt));
}
