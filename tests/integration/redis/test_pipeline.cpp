// Typed pipelines against a real redis-server: one request, typed values, the prefix (and a view's)
// on every key, the methods' defaults when Redis does not answer.
#include <catch2/catch.hpp>

#include "plugins/redis/pipeline.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

struct Values {
  bool answered = false;
  bool set = false;
  std::optional<std::string> got, missing, field;
  std::optional<long long> count;
  long long pushed = 0, ttl = 0, no_key_ttl = 0, added = 0, deleted = 0;
  bool trimmed = false, exists = false, expired = false;
  std::vector<std::string> recent;
  std::optional<long long> by_five;
};

awaitable<Values> run_all(redis::RedisManager& redis) {
  redis::Pipeline pipe(redis);
  auto set = pipe.set("p:s", "v", {.ex = 100s});
  auto got = pipe.get("p:s");
  auto missing = pipe.get("p:none");
  auto hset = pipe.hset("p:h", {{"a", "1"}, {"b", "2"}});
  auto field = pipe.hget("p:h", "b");
  auto pushed = pipe.lpush("p:l", {"x", "y", "z"});
  auto trimmed = pipe.ltrim("p:l", 0, 1);
  auto recent = pipe.lrange("p:l", 0, -1);
  auto count = pipe.incr("p:n");
  auto by_five = pipe.incrby("p:n", 5);
  auto ttl = pipe.pttl("p:s");
  auto no_key_ttl = pipe.pttl("p:none");
  auto expired = pipe.expire("p:h", 50s);
  auto exists = pipe.exists("p:h");
  auto added = pipe.sadd("p:set", {"m1", "m2", "m1"});
  auto deleted = pipe.del("p:set");
  CHECK(pipe.size() == 16);
  Values v;
  v.answered = co_await pipe.run();
  v.set = set.get();
  v.got = got.get();
  v.missing = missing.get();
  CHECK(hset.get() == 2);
  v.field = field.get();
  v.pushed = pushed.get();
  v.trimmed = trimmed.get();
  v.recent = recent.get();
  v.count = count.get();
  v.by_five = by_five.get();
  v.ttl = ttl.get();
  v.no_key_ttl = no_key_ttl.get();
  v.expired = expired.get();
  v.exists = exists.get();
  v.added = added.get();
  v.deleted = deleted.get();
  co_return v;
}

}  // namespace

TEST_CASE("pipeline: typed commands in one request come back typed, in order, under the prefix") {
  RedisFixture f;
  const auto commands_before = f.redis.stats().commands;
  const auto v = f.sync(run_all(f.redis));
  CHECK(v.answered);
  CHECK(v.set);
  CHECK(v.got == "v");
  CHECK_FALSE(v.missing);
  CHECK(v.field == "2");
  CHECK(v.pushed == 3);
  CHECK(v.trimmed);
  CHECK(v.recent == std::vector<std::string>{"z", "y"});
  CHECK(v.count == 1);
  CHECK(v.by_five == 6);
  CHECK(v.ttl > 90'000);
  CHECK(v.ttl <= 100'000);
  CHECK(v.no_key_ttl == -2);
  CHECK(v.expired);
  CHECK(v.exists);
  CHECK(v.added == 2);
  CHECK(v.deleted == 1);
  CHECK(f.redis.stats().commands == commands_before + 1);  // one request for sixteen commands
  CHECK(f.server.command({"GET", "test:p:s"}) == "$1\r\nv\r\n");
  CHECK(f.server.command({"HGET", "test:p:h", "a"}) == "$1\r\n1\r\n");
}

TEST_CASE("pipeline: on a scoped view every key stays inside the view, and an error reply gives that value its default") {
  RedisFixture f;
  auto tenant = f.redis.scoped("tenant:7:");
  f.server.command({"SET", "test:tenant:7:text", "not a number"});
  auto run = [](redis::RedisManager& view) -> awaitable<std::tuple<bool, std::optional<long long>, std::optional<long long>>> {
    redis::Pipeline pipe(view);
    auto wrong_type = pipe.incr("text");  // ERR value is not an integer: nullopt, the rest still runs
    auto counter = pipe.incr("counter");
    const bool answered = co_await pipe.run();
    co_return std::tuple{answered, wrong_type.get(), counter.get()};
  };
  const auto [answered, wrong_type, counter] = f.sync(run(tenant));
  CHECK(answered);
  CHECK_FALSE(wrong_type);
  CHECK(counter == 1);
  CHECK(f.server.command({"GET", "test:tenant:7:counter"}) == "$1\r\n1\r\n");
  CHECK(f.server.command({"EXISTS", "test:counter"}) == ":0\r\n");
}

TEST_CASE("pipeline: with Redis down it completes at once, every value its method's default") {
  RedisFixture f;
  f.server.kill9();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  auto run = [](redis::RedisManager& redis) -> awaitable<std::tuple<bool, std::optional<std::string>, long long, bool>> {
    redis::Pipeline pipe(redis);
    auto got = pipe.get("k");
    auto ttl = pipe.pttl("k");
    auto set = pipe.set("k", "v");
    const bool answered = co_await pipe.run();
    co_return std::tuple{answered, got.get(), ttl.get(), set.get()};
  };
  const auto misses_before = f.redis.stats().misses;
  const auto [answered, got, ttl, set] = f.sync(run(f.redis));
  CHECK_FALSE(answered);
  CHECK_FALSE(got);
  CHECK(ttl == -2);
  CHECK_FALSE(set);
  CHECK(f.redis.stats().misses == misses_before);  // no answer is no miss, in a pipeline as alone
  CHECK_FALSE(f.sync(f.redis.get("k")));
  CHECK(f.redis.stats().misses == misses_before);
}

TEST_CASE("pipeline: any command by add(), empty arguments answered without sending, in MULTI ... EXEC with run_atomically") {
  RedisFixture f;
  auto view = f.redis.scoped("t:");
  auto run = [](redis::RedisManager& redis) -> awaitable<bool> {
    redis::Pipeline pipe(redis);
    auto added = pipe.add(redis::cmd::zadd(redis.key_space(), "board", {{2, "ann"}, {1, "bob"}}));
    auto rank = pipe.add(redis::cmd::zrank(redis.key_space(), "board", "ann"));
    auto no_fields = pipe.hset("h", std::map<std::string, std::string>{});  // Redis would refuse HSET h
    auto no_values = pipe.lpush("l", {});
    auto pushed = pipe.rpush("l", {"x"});
    auto blocking = pipe.add(redis::cmd::blpop(redis.key_space(), {"q"}, 1s));  // needs its own connection
    CHECK(pipe.size() == 6);
    // Every co_await in a statement of its own, never inside CHECK: under GCC 12 the macro's
    // expression ran three times (a pipeline run thrice counted its reads thrice).
    const bool answered = co_await pipe.run();
    CHECK(answered);
    CHECK(added.get() == 2);
    CHECK(rank.get() == 1);
    CHECK(no_fields.get() == 0);
    CHECK(no_values.get() == 0);
    CHECK(pushed.get() == 1);
    CHECK_FALSE(blocking.get());

    redis::Pipeline reads(redis);  // an MGET counts each value, as redis.mget() does
    const auto misses = redis.stats().misses;
    reads.add(redis::cmd::mget(redis.key_space(), {"none-1", "none-2", "none-3"}));
    const bool read = co_await reads.run();
    CHECK(read);
    CHECK(redis.stats().misses == misses + 3);

    redis::Pipeline transaction(redis);
    auto set = transaction.set("tx", "1");
    auto count = transaction.incr("tx");
    const bool committed = co_await transaction.run_atomically();
    CHECK(committed);
    CHECK(set.get());
    CHECK(count.get() == 2);

    co_return co_await redis.get("tx") == "2";
  };
  CHECK(f.sync(run(view)));
  CHECK(f.sync(f.redis.get("t:tx")) == "2");  // the view's keys, under its scope
}

TEST_CASE("pipeline: hostile keys and values (glob characters, NUL, non-UTF-8, 1 MiB, empty) round-trip byte for byte") {
  RedisFixture f;
  const std::string key("p:*?[x]\\\0\xff\xfe", 12);
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131);
  auto run = [](redis::RedisManager& redis, std::string name,
                std::string value) -> awaitable<std::tuple<bool, std::optional<std::string>, std::optional<std::string>>> {
    redis::Pipeline pipe(redis);
    pipe.set(name, value);
    auto back = pipe.get(name);
    auto empty = pipe.get("");  // the empty name: the prefix alone, a missing key here
    const bool answered = co_await pipe.run();
    co_return std::tuple{answered, back.get(), empty.get()};
  };
  const auto [answered, back, empty] = f.sync(run(f.redis, key, big));
  CHECK(answered);
  REQUIRE(back);
  CHECK(*back == big);
  CHECK_FALSE(empty);
  CHECK(f.server.command({"EXISTS", "test:" + key}) == ":1\r\n");
  CHECK(f.server.command({"EXISTS", "test:p:x"}) == ":0\r\n");  // nothing under another name
  CHECK(f.sync(f.redis.ping()));                                 // and the connection still serves
}

namespace {

// What a pipeline's values were, whether Redis ran them or they came from replies kept before.
struct KeptRun {
  bool answered = false;
  std::optional<long long> count, not_a_number;
  bool set = false;
  std::optional<std::string> binary, missing, big;
  std::vector<std::string> empty, listed;
  long long pushed = 0;
  redis::Reply scanned;
  bool operator==(const KeptRun&) const = default;
};

// With `kept` empty, runs the work as a script keeping its replies under "kept", after "before\0";
// otherwise answers it from `kept`.
awaitable<KeptRun> run_keeping(redis::RedisManager& redis, std::string kept) {
  redis::Pipeline pipe(redis);
  auto count = pipe.incr("k:n");
  auto set = pipe.set("k:b", std::string("\0\xff\r\n", 4));
  auto binary = pipe.get("k:b");
  auto missing = pipe.get("k:none");
  auto big = pipe.get("k:big");  // str32: over 64 KiB
  auto empty = pipe.lrange("k:none", 0, -1);
  auto pushed = pipe.rpush("k:l", {"a", std::string(300, 'x')});
  auto listed = pipe.lrange("k:l", 0, -1);
  auto not_a_number = pipe.incr("k:b");  // an error reply: its default
  auto scanned = pipe.add(redis::cmd::scan(redis.key_space(), "0", "k:l"));  // a nested array
  if (kept.empty()) pipe.keep_replies_in("kept", 60s, std::string("before\0", 7));
  else REQUIRE(pipe.answer_from(kept));  // once the commands are queued: it checks their number
  KeptRun run;
  run.answered = co_await pipe.run();
  run.count = count.get();
  run.set = set.get();
  run.binary = binary.get();
  run.missing = missing.get();
  run.big = big.get();
  run.empty = empty.get();
  run.pushed = pushed.get();
  run.listed = listed.get();
  run.not_a_number = not_a_number.get();
  run.scanned = scanned.get().reply;
  co_return run;
}

}  // namespace

TEST_CASE("pipeline: replies kept by its script (every type, binary, nested, 100 KiB, after SCRIPT FLUSH) answer the same work again without sending it") {
  RedisFixture f;
  const std::string big(100 << 10, '\x80');
  f.server.command({"SET", "test:k:big", big});
  f.server.command({"SCRIPT", "FLUSH"});  // the script goes by its source once (EVAL after NOSCRIPT)
  const auto first = f.sync(run_keeping(f.redis, ""));
  CHECK(first.answered);
  CHECK(first.count == 1);
  CHECK(first.set);
  CHECK(first.binary == std::string("\0\xff\r\n", 4));
  CHECK_FALSE(first.missing);
  CHECK(first.big == big);
  CHECK(first.empty.empty());
  CHECK(first.pushed == 2);
  CHECK(first.listed == std::vector<std::string>{"a", std::string(300, 'x')});
  CHECK_FALSE(first.not_a_number);
  CHECK(first.scanned == redis::Reply::array({redis::Reply::string("0"), redis::Reply::array({redis::Reply::string("test:k:l")})}));

  const auto kept = f.sync(f.redis.get("kept"));
  REQUIRE(kept);
  REQUIRE(kept->starts_with(std::string("before\0", 7)));
  CHECK(std::stoll(f.server.command({"PTTL", "test:kept"}).substr(1)) > 50'000);
  const auto commands_before = f.redis.stats().commands;
  const auto again = f.sync(run_keeping(f.redis, kept->substr(7)));
  CHECK(again == first);
  CHECK(f.redis.stats().commands == commands_before);             // nothing sent
  CHECK(f.server.command({"GET", "test:k:n"}) == "$1\r\n1\r\n");  // nor done twice
}
