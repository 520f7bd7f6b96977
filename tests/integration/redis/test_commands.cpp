// Every RedisManager command against a real redis-server, checked through our client and, where it
// matters, independently through the raw RESP helper.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include <future>

#include "plugins/redis/commands/commands.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"
#include "plugins/redis/recipes/rate_limiter.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("strings and counters") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(f.sync(r.ping()));
  CHECK_FALSE(f.sync(r.get("missing")));
  CHECK(f.sync(r.set("k", "v")));
  CHECK(f.sync(r.get("k")) == "v");
  CHECK(f.server.command({"GET", "test:k"}) == "$1\r\nv\r\n");  // the prefix is applied
  CHECK_FALSE(f.sync(r.set("k", "other", {.nx = true})));
  CHECK(f.sync(r.set("k", "other", {.xx = true})));
  CHECK_FALSE(f.sync(r.set("absent", "x", {.xx = true})));
  CHECK(f.sync(r.set("ttl", "x", {.ex = 100s})));
  CHECK(f.sync(r.ttl("ttl")) > 90);
  CHECK(f.sync(r.set("ttl", "y", {.keepttl = true})));
  CHECK(f.sync(r.ttl("ttl")) > 90);
  CHECK(f.sync(r.set("pttl", "x", {.px = 5000ms})));
  CHECK(f.sync(r.pttl("pttl")) > 1000);
  CHECK(f.sync(r.setex("sx", 50s, "v")));
  CHECK(f.sync(r.ttl("sx")) > 40);
  CHECK(f.sync(r.getdel("sx")) == "v");
  CHECK_FALSE(f.sync(r.exists("sx")));
  CHECK(f.sync(r.append("ap", "ab")) == 2);
  CHECK(f.sync(r.append("ap", "cd")) == 4);
  CHECK(f.sync(r.strlen("ap")) == 4);
  CHECK(f.sync(r.incr("n")) == 1);
  CHECK(f.sync(r.incrby("n", 10)) == 11);
  CHECK(f.sync(r.decr("n")) == 10);
  CHECK(f.sync(r.decrby("n", 4)) == 6);
  CHECK(f.sync(r.incrbyfloat("f", 1.5)) == 1.5);
  CHECK_FALSE(f.sync(r.incr("k")));  // not an integer: an error reply, reported as no value
  CHECK(f.sync(r.mset({{"a", "1"}, {"b", "2"}})));
  CHECK(f.sync(r.mget({"a", "missing", "b"})) == std::vector<std::optional<std::string>>{"1", std::nullopt, "2"});
  const std::string binary("bin\0ary\r\n", 9);
  CHECK(f.sync(r.set("binary", binary)));
  CHECK(f.sync(r.get("binary")) == binary);
  const auto stats = r.stats();
  CHECK(stats.state == "connected");
  CHECK(stats.commands > 20);
  CHECK(stats.hits >= 2);
  CHECK(stats.misses >= 1);
}

// GET and SET join prefix, scope and name in a buffer on the stack up to 128 bytes, on the heap
// past it: keys on both sides of that edge, and hostile ones, reach Redis byte for byte.
TEST_CASE("GET and SET: hostile keys (empty, at the 128-byte edge, 1 MiB, NUL, non-UTF-8, globs) round-trip under their full name") {
  RedisFixture f;
  auto scoped = f.redis.scoped("tenant:*:");  // prefix "test:" + scope + name
  std::string huge(1 << 20, 'k');
  huge[7] = '\0';
  huge[8] = '\xff';
  constexpr char hostile[] = "n\0\xfe\xff*?[x]{tag}";
  std::vector<std::string> names{"", std::string(hostile, sizeof hostile - 1), huge};
  for (const std::size_t total : {127, 128, 129})  // the full key's length, prefix and scope included
    names.push_back(std::string(total - std::string("test:tenant:*:").size(), 'e'));
  for (const auto& name : names) {
    INFO("name of " << name.size() << " bytes");
    const std::string value = "v" + std::to_string(name.size());
    CHECK(f.sync(scoped.set(name, value)));
    CHECK(f.sync(scoped.get(name)) == value);
    CHECK(f.server.command({"STRLEN", "test:tenant:*:" + name}) == ":" + std::to_string(value.size()) + "\r\n");
  }
  CHECK(f.server.command({"DBSIZE"}) == ":" + std::to_string(names.size()) + "\r\n");  // nothing under another name
  CHECK(f.sync(f.redis.ping()));  // and the connection still serves
}

TEST_CASE("keys") {
  RedisFixture f;
  auto& r = f.redis;
  for (const char* name : {"user:1", "user:2", "user:3", "order:1"}) CHECK(f.sync(r.set(name, "x")));
  CHECK(f.sync(r.exists("user:1")));
  CHECK(f.sync(r.expire("user:1", 100s)));
  CHECK(f.sync(r.ttl("user:1")) > 90);
  CHECK(f.sync(r.persist("user:1")));
  CHECK(f.sync(r.ttl("user:1")) == -1);
  CHECK(f.sync(r.ttl("nothing")) == -2);
  CHECK(f.sync(r.pexpire("user:2", 100000ms)));
  CHECK(f.sync(r.type("user:1")) == "string");
  CHECK(f.sync(r.type("nothing")) == "none");
  auto users = f.sync(r.keys("user:*"));
  std::sort(users.begin(), users.end());
  CHECK(users == Strings{"user:1", "user:2", "user:3"});
  const auto two = f.sync(r.keys("*", 2));
  CHECK(two.names.size() == 2);
  CHECK(two.limit_reached);  // said, not silent
  CHECK_FALSE(two.complete());
  const auto all = f.sync(r.keys("user:*", 3));
  CHECK(all.names.size() == 3);
  CHECK(all.complete());  // exactly the limit, and nothing more matched
  CHECK(f.sync(r.rename("order:1", "order:9")));
  CHECK(f.sync(r.get("order:9")) == "x");
  CHECK(f.sync(r.del({"user:1", "user:2", "nothing"})) == 2);
  CHECK(f.sync(r.unlink({"user:3"})) == 1);
  CHECK(f.sync(r.del({})) == 0);
}

TEST_CASE("keys() escapes glob characters in the prefix and never matches outside it") {
  RedisFixture f({}, "t[1]*:");
  auto& r = f.redis;
  CHECK(f.sync(r.set("a", "1")));
  f.server.command({"SET", "t1x:a", "outside"});  // would match an unescaped "t[1]*:*"
  CHECK(f.sync(r.keys("*")) == Strings{"a"});
}

TEST_CASE("hashes") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(f.sync(r.hset("h", "f1", "v1")) == 1);
  CHECK(f.sync(r.hset("h", std::map<std::string, std::string>{{"f2", "v2"}, {"f3", "v3"}})) == 2);
  CHECK(f.sync(r.hget("h", "f1")) == "v1");
  CHECK_FALSE(f.sync(r.hget("h", "nope")));
  CHECK(f.sync(r.hmget("h", {"f1", "nope", "f3"})) == std::vector<std::optional<std::string>>{"v1", std::nullopt, "v3"});
  CHECK(f.sync(r.hgetall("h")) == std::map<std::string, std::string>{{"f1", "v1"}, {"f2", "v2"}, {"f3", "v3"}});
  CHECK(f.sync(r.hexists("h", "f2")));
  CHECK(f.sync(r.hlen("h")) == 3);
  auto keys = f.sync(r.hkeys("h"));
  std::sort(keys.begin(), keys.end());
  CHECK(keys == Strings{"f1", "f2", "f3"});
  CHECK(f.sync(r.hvals("h")).size() == 3);
  CHECK(f.sync(r.hincrby("h", "count", 5)) == 5);
  CHECK(f.sync(r.hdel("h", {"f1", "f2"})) == 2);
  CHECK(f.sync(r.hgetall("missing")).empty());
}

TEST_CASE("lists, including BLPOP on its own connection") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(f.sync(r.rpush("l", {"a", "b", "c"})) == 3);
  CHECK(f.sync(r.lpush("l", {"z"})) == 4);
  CHECK(f.sync(r.lrange("l", 0, -1)) == Strings{"z", "a", "b", "c"});
  CHECK(f.sync(r.llen("l")) == 4);
  CHECK(f.sync(r.lindex("l", 1)) == "a");
  CHECK_FALSE(f.sync(r.lindex("l", 99)));
  CHECK(f.sync(r.lpop("l")) == "z");
  CHECK(f.sync(r.rpop("l")) == "c");
  CHECK(f.sync(r.ltrim("l", 0, 0)));
  CHECK(f.sync(r.lrange("l", 0, -1)) == Strings{"a"});
  CHECK(f.sync(r.blpop({"empty", "l"}, 1s)) == std::pair<std::string, std::string>{"l", "a"});
  CHECK_FALSE(f.sync(r.blpop({"empty"}, 1s)));  // times out with nothing
  CHECK(f.sync(r.ping()));  // the shared connections were never blocked
}

TEST_CASE("sets and sorted sets") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(f.sync(r.sadd("s1", {"a", "b", "c"})) == 3);
  CHECK(f.sync(r.sadd("s2", {"b", "c", "d"})) == 3);
  CHECK(f.sync(r.sismember("s1", "a")));
  CHECK(f.sync(r.scard("s1")) == 3);
  auto sorted = [](Strings v) { std::sort(v.begin(), v.end()); return v; };
  CHECK(sorted(f.sync(r.smembers("s1"))) == Strings{"a", "b", "c"});
  CHECK(sorted(f.sync(r.sunion({"s1", "s2"}))) == Strings{"a", "b", "c", "d"});
  CHECK(sorted(f.sync(r.sinter({"s1", "s2"}))) == Strings{"b", "c"});
  CHECK(f.sync(r.sdiff({"s1", "s2"})) == Strings{"a"});
  CHECK(f.sync(r.srem("s1", {"a"})) == 1);

  CHECK(f.sync(r.zadd("z", {{1, "one"}, {2, "two"}, {3.5, "three"}})) == 3);
  CHECK(f.sync(r.zrange("z", 0, -1)) == Strings{"one", "two", "three"});
  CHECK(f.sync(r.zrevrange("z", 0, 0)) == Strings{"three"});
  CHECK(f.sync(r.zrange_withscores("z", 0, 1)) ==
        std::vector<std::pair<std::string, double>>{{"one", 1}, {"two", 2}});
  CHECK(f.sync(r.zrangebyscore("z", "(1", "+inf")) == Strings{"two", "three"});
  CHECK(f.sync(r.zrank("z", "two")) == 1);
  CHECK_FALSE(f.sync(r.zrank("z", "none")));
  CHECK(f.sync(r.zscore("z", "three")) == 3.5);
  CHECK(f.sync(r.zincrby("z", 10, "one")) == 11);
  CHECK(f.sync(r.zcard("z")) == 3);
  CHECK(f.sync(r.zremrangebyscore("z", "-inf", "3")) == 1);
  CHECK(f.sync(r.zrem("z", {"three"})) == 1);
}

TEST_CASE("JSON values: round trip, and invalid stored JSON is reported, not thrown") {
  RedisFixture f;
  auto& r = f.redis;
  const nlohmann::json doc{{"id", 7}, {"tags", {"a", "b"}}, {"nested", {{"ok", true}}}, {"none", nullptr}};
  CHECK(f.sync(r.set_json("doc", doc, 60s)));
  CHECK(f.sync(r.ttl("doc")) > 50);
  auto loaded = f.sync(r.get_json("doc"));
  REQUIRE(loaded.value);
  CHECK(*loaded.value == doc);
  CHECK(loaded.error.empty());
  f.server.command({"SET", "test:broken", "{not json"});
  auto broken = f.sync(r.get_json("broken"));
  CHECK_FALSE(broken.value);
  CHECK_THAT(broken.error, Catch::Contains("not valid JSON"));
  CHECK_FALSE(f.sync(r.get_json("missing")).value);
  // A string that is not UTF-8 cannot be JSON: refused (false), not thrown, nothing written.
  CHECK_FALSE(f.sync(r.set_json("bad", nlohmann::json{{"s", std::string("\xff")}})));
  CHECK(f.sync(r.exists("bad")) == false);
  // Every SET option, as seed 001's set_json(key, value, ex, px, nx, xx).
  CHECK(f.sync(r.set_json("once", doc, {.px = 90'000ms, .nx = true})));
  CHECK(f.sync(r.pttl("once")) > 80'000);
  CHECK_FALSE(f.sync(r.set_json("once", nlohmann::json(1), {.nx = true})));  // exists: not set
  CHECK(*f.sync(r.get_json("once")).value == doc);
  CHECK_FALSE(f.sync(r.set_json("absent", doc, {.xx = true})));
  CHECK(f.sync(r.set_json("once", nlohmann::json(2), {.xx = true, .keepttl = true})));
  CHECK(f.sync(r.pttl("once")) > 80'000);
  CHECK(*f.sync(r.get_json("once")).value == nlohmann::json(2));
}

TEST_CASE("pipelines and transactions are written as one request") {
  RedisFixture f;
  auto& r = f.redis;
  redis::Batch batch;
  batch.push({"SET", r.key("p1"), "a"}).push({"INCR", r.key("p2")}).push({"GET", r.key("p1")});
  auto results = f.sync(r.pipeline(batch));
  REQUIRE(results.size() == 3);
  CHECK(results[0].reply.text == "OK");
  CHECK(results[1].reply.integer == 1);
  CHECK(results[2].reply.text == "a");

  redis::Batch tx;
  tx.push({"INCR", r.key("counter")}).push({"INCR", r.key("counter")});
  auto committed = f.sync(r.transaction(tx));
  REQUIRE(committed.succeeded());
  CHECK(committed.reply.describe() == "[1, 2]");

  redis::Batch bad;
  bad.push({"INCR", r.key("counter")}).push({"NOSUCHCOMMAND"});
  auto aborted = f.sync(r.transaction(bad));
  CHECK(aborted.reply.is_error());
  CHECK(f.sync(r.get("counter")) == "2");  // nothing of the aborted transaction ran
}

TEST_CASE("scripts run by SHA and survive SCRIPT FLUSH, their keys are prefixed") {
  RedisFixture f;
  auto& r = f.redis;
  const redis::Script incr_by("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  CHECK(incr_by.sha().size() == 40);
  CHECK(f.sync(r.eval(incr_by, {"s"}, {"5"})).reply.integer == 5);
  CHECK(f.server.command({"SCRIPT", "EXISTS", incr_by.sha()}) == "*1\r\n:1\r\n");
  f.server.command({"SCRIPT", "FLUSH"});
  CHECK(f.sync(r.eval(incr_by, {"s"}, {"5"})).reply.integer == 10);
  CHECK(f.server.command({"GET", "test:s"}) == "$2\r\n10\r\n");
  auto error = f.sync(r.eval(redis::Script("return redis.call('NOPE')"), {}, {}));
  CHECK(error.ok());
  CHECK(error.reply.is_error());
}

TEST_CASE("a command run detached lands with nobody waiting and is counted, an error reply is logged, and nothing is sent while Redis is down") {
  RedisFixture f;
  auto& r = f.redis;
  const auto before = r.stats().commands;
  r.run_detached(redis::cmd::set(r.key_space(), "detached", "v", {}, std::nullopt), "test: set");
  REQUIRE(wait_until([&] { return f.server.command({"GET", "test:detached"}) == "$1\r\nv\r\n"; }, 10s));
  r.run_detached(redis::cmd::incr(r.key_space(), "detached"), "test: an error reply");  // not an integer
  r.run_detached(redis::cmd::del(r.key_space(), {}), "test: nothing to send");
  CHECK(f.sync(r.ping()));
  CHECK(wait_until([&] { return r.stats().commands == before + 3; }, 10s));  // set, incr, ping
  CHECK(f.server.command({"GET", "test:detached"}) == "$1\r\nv\r\n");
  f.server.stop();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  r.run_detached(redis::cmd::set(r.key_space(), "detached", "w", {}, std::nullopt), "test: while down");
  CHECK(r.stats().commands == before + 3);
}

TEST_CASE("default TTL applies when the caller gives none") {
  RedisServer server;
  server.start();
  auto config = redis_config_for(server.port());
  config.default_ttl_s = 300;
  redis::RedisManager r(config);
  r.initialize();
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.set("a", "1")));
  CHECK(r.run_sync(r.ttl("a")) > 200);
  CHECK(r.run_sync(r.set("b", "1", {.ex = 10s})));
  CHECK(r.run_sync(r.ttl("b")) <= 10);
  CHECK(r.run_sync(r.mset({{"c", "1"}})));
  CHECK(r.run_sync(r.ttl("c")) > 200);
}

TEST_CASE("publish and subscribe, with patterns") {
  RedisFixture f;
  auto& r = f.redis;
  ReceivedMessages received;
  r.subscribe("news", received.handler());
  r.psubscribe("alerts.*", received.handler("p "));
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  CHECK(f.sync(r.publish("news", "hello")) == 1);
  CHECK(f.sync(r.publish("alerts.fire", "!")) == 1);
  CHECK(f.sync(r.publish("nobody", "x")) == 0);
  REQUIRE(wait_until([&] { return received.size() == 2; }, 10s));
  CHECK(received.all() == Strings{"news:hello", "p alerts.fire:!"});
}

TEST_CASE("AUTH with an ACL user, SELECT and CLIENT SETNAME on connect") {
  RedisServer server({.password = "pw", .username = "app"});
  server.start();
  auto config = redis_config_for(server.port());
  config.username = "app";
  config.password = "pw";
  config.db = 3;
  config.client_name = "routemq-test";
  redis::RedisManager r(config);
  r.initialize();
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(server.command({"SELECT", "3"}) == "+OK\r\n");
  auto names = r.run_sync(r.command({"CLIENT", "GETNAME"}));
  CHECK(names.reply.text == "routemq-test");
  auto raw = r.run_sync(r.command({"DBSIZE"}));
  CHECK(raw.reply.integer == 1);

  RedisServer locked({.password = "right"});
  locked.start();
  auto wrong = redis_config_for(locked.port());
  wrong.password = "wrong";
  redis::RedisManager refused(wrong);
  refused.initialize();
  CHECK_FALSE(refused.wait_connected(1s));
  CHECK(refused.run_sync(refused.command({"PING"})).unavailable());
}

namespace {

// A coroutine with parameters, not a capturing lambda: the frame owns what it uses.
awaitable<void> set_then_get(redis::RedisManager& r, asio::io_context& app, int i, int& finished, bool& wrong_thread) {
  const auto name = "c" + std::to_string(i);
  co_await r.set(name, std::to_string(i));
  auto value = co_await r.get(name);
  if (!app.get_executor().running_in_this_thread()) wrong_thread = true;
  if (value == std::to_string(i)) ++finished;
}

}  // namespace

TEST_CASE("many concurrent coroutines share the pipelined connections and resume on their own executor") {
  RedisFixture f;
  asio::io_context app(1);
  int finished = 0;
  bool wrong_thread = false;
  for (int i = 0; i < 500; ++i) asio::co_spawn(app, set_then_get(f.redis, app, i, finished, wrong_thread), asio::detached);
  app.run();
  CHECK(finished == 500);
  CHECK_FALSE(wrong_thread);
}

TEST_CASE("the server view: memory, dbsize and the type distribution under the prefix") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(f.sync(r.set("s1", "x")));
  CHECK(f.sync(r.set("s2", "x")));
  CHECK(f.sync(r.hset("h1", "f", "v")) == 1);
  CHECK(f.sync(r.rpush("l1", {"a"})) == 1);
  f.server.command({"SET", "other:k", "not under the prefix"});
  const auto view = f.sync(r.server_view());
  CHECK(view.available);
  CHECK(view.memory.count("used_memory") == 1);
  CHECK(view.dbsize == 5);
  CHECK(view.sampled == 4);
  CHECK(view.types == std::map<std::string, long long>{{"string", 2}, {"hash", 1}, {"list", 1}});

  redis::RedisManager disabled{redis::RedisConfig{}};
  CHECK_FALSE(disabled.run_sync(disabled.server_view()).available);
}

TEST_CASE("the blocking facade works from an app worker thread and refuses the manager's own thread") {
  RedisFixture f;
  auto& r = f.redis;
  asio::io_context app(1);
  std::optional<std::string> seen;
  asio::post(app, [&] {
    r.run_sync(r.set("from-worker", "yes"));
    seen = r.run_sync(r.get("from-worker"));
  });
  app.run();
  CHECK(seen == "yes");
  std::promise<std::string> refused;
  asio::post(r.io_context(), [&] {
    try {
      r.run_sync(r.ping());
      refused.set_value("no error");
    } catch (const std::logic_error& e) {
      refused.set_value(e.what());
    }
  });
  CHECK_THAT(refused.get_future().get(), Catch::Contains("would deadlock"));
}

TEST_CASE("every rate limit strategy frees capacity over time, and retry_after is when enough is free for the cost") {
  RedisFixture f;
  for (auto strategy : {redis::RateLimitStrategy::gcra, redis::RateLimitStrategy::fixed_window,
                        redis::RateLimitStrategy::sliding_window, redis::RateLimitStrategy::token_bucket}) {
    INFO("strategy " << static_cast<int>(strategy));
    redis::RateLimiter limiter(f.redis, {.rate = 2, .period = 400ms, .strategy = strategy});
    const std::string key = "free" + std::to_string(static_cast<int>(strategy));
    // A fixed window opens at each multiple of the period on Redis' clock, this host's wall clock:
    // the three checks below must fall in one window (started mid-window, a boundary between the
    // second and the third let the third through: seen once under ASan in CI).
    if (strategy == redis::RateLimitStrategy::fixed_window)
      std::this_thread::sleep_for(400ms - std::chrono::system_clock::now().time_since_epoch() % 400ms);
    REQUIRE(f.sync(limiter.check(key))->allowed);
    std::this_thread::sleep_for(80ms);  // two units taken at two different times
    REQUIRE(f.sync(limiter.check(key))->allowed);
    const auto denied = f.sync(limiter.check(key, 2));
    REQUIRE(denied);
    REQUIRE_FALSE(denied->allowed);
    // Not earlier than the whole cost is free: at retry_after both units must be back.
    std::this_thread::sleep_for(std::chrono::milliseconds(denied->retry_after_ms + 20));
    CHECK(f.sync(limiter.check(key, 2))->allowed);
  }
}

TEST_CASE("the rate limiter offered to handlers: check with cost, peek without consuming, reset") {
  RedisFixture f;
  redis::RateLimiter limiter(f.redis, {.rate = 5, .period = std::chrono::hours(24)});
  auto first = f.sync(limiter.check("dev1", 2));
  REQUIRE(first);
  CHECK(first->allowed);
  CHECK(first->limit == 5);
  CHECK(first->remaining == 3);
  CHECK(f.sync(limiter.peek("dev1"))->allowed);
  CHECK(f.sync(limiter.peek("dev1"))->remaining == 2);  // what check() would leave after one unit
  CHECK(f.sync(limiter.peek("dev1"))->remaining == 2);  // peeking consumes nothing
  CHECK(f.sync(limiter.check("dev1", 3))->allowed);
  const auto exhausted = f.sync(limiter.peek("dev1"));
  CHECK_FALSE(exhausted->allowed);  // the next message would not pass
  CHECK(exhausted->retry_after_ms > 0);
  auto limited = f.sync(limiter.check("dev1"));
  REQUIRE(limited);
  CHECK_FALSE(limited->allowed);
  CHECK(limited->retry_after_ms > 0);
  CHECK(f.sync(limiter.reset("dev1")));
  CHECK(f.sync(limiter.check("dev1"))->allowed);
  for (auto strategy : {redis::RateLimitStrategy::fixed_window, redis::RateLimitStrategy::sliding_window,
                        redis::RateLimitStrategy::token_bucket}) {
    redis::RateLimiter other(f.redis, {.rate = 2, .period = std::chrono::hours(24), .strategy = strategy});
    const std::string key = "s" + std::to_string(static_cast<int>(strategy));
    CHECK(f.sync(other.peek(key))->allowed);
    CHECK(f.sync(other.check(key))->allowed);
    CHECK(f.sync(other.peek(key))->allowed);
    CHECK(f.sync(other.check(key))->allowed);
    CHECK_FALSE(f.sync(other.peek(key))->allowed);
    CHECK_FALSE(f.sync(other.check(key))->allowed);
    CHECK(f.sync(other.reset(key)));
    CHECK(f.sync(other.check(key))->allowed);
  }
  redis::RedisManager disabled{redis::RedisConfig{}};
  redis::RateLimiter offline(disabled, {.rate = 1});
  CHECK_FALSE(disabled.run_sync(offline.check("k")));  // unavailable: the caller decides
}

TEST_CASE("the distributed lock offered to handlers: busy, fencing, lost, release and the guard") {
  RedisFixture f;
  auto& r = f.redis;
  using redis::DistributedLock;
  auto first = f.sync(DistributedLock::acquire(r, "job", {.ttl = 10s}));
  REQUIRE(first.acquired());
  CHECK(first.fence() == 1);
  auto second = f.sync(DistributedLock::acquire(r, "job", {.ttl = 10s, .wait = 100ms}));
  CHECK(second.outcome() == DistributedLock::Outcome::busy);
  CHECK(f.sync(first.release()));
  CHECK_FALSE(f.sync(first.release()));  // once
  {
    auto guard = f.sync(DistributedLock::acquire(r, "job", {.ttl = 10s}));
    CHECK(guard.fence() == 2);  // strictly increasing
  }  // the guard releases in the background
  REQUIRE(wait_until([&] { return f.server.command({"EXISTS", "test:lock:{job}"}) == ":0\r\n"; }, 5s));
  auto taken = f.sync(DistributedLock::acquire(r, "job", {.ttl = 300ms}));
  REQUIRE(taken.acquired());
  f.server.command({"SET", "test:lock:{job}", "someone-else"});  // stolen: renewal notices
  REQUIRE(wait_until([&] { return taken.lost(); }, 5s));
  CHECK_FALSE(f.sync(taken.release()));
  CHECK(f.server.command({"GET", "test:lock:{job}"}) == "$12\r\nsomeone-else\r\n");  // never deleted

  redis::RedisManager disabled{redis::RedisConfig{}};
  auto offline = disabled.run_sync(DistributedLock::acquire(disabled, "job"));
  CHECK(offline.outcome() == DistributedLock::Outcome::unavailable);
}

TEST_CASE("keys without a limit returns every match past a thousand, and scan pages through them") {
  RedisFixture f;
  auto& r = f.redis;
  redis::Batch batch;
  for (int i = 0; i < 2500; ++i) batch.push({"SET", r.key("session:" + std::to_string(i)), "x"});
  REQUIRE(f.sync(r.pipeline(batch)).size() == 2500);
  REQUIRE(f.sync(r.set("other", "x")));

  CHECK(f.sync(r.keys("session:*")).size() == 2500);  // the seed's delete_many(keys(...)) leaves none
  const auto limited = f.sync(r.keys("session:*", 1000));
  CHECK(limited.names.size() == 1000);
  CHECK(limited.limit_reached);

  std::set<std::string> paged;
  std::string cursor = "0";
  for (int pages = 0; pages < 1000; ++pages) {
    const auto page = f.sync(r.scan("session:*", cursor));
    REQUIRE(page);
    paged.insert(page->names.begin(), page->names.end());
    cursor = page->cursor;
    if (page->done()) break;
  }
  CHECK(cursor == "0");
  CHECK(paged.size() == 2500);
  CHECK(paged.count("session:0") == 1);  // without the prefix

  f.server.stop();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  CHECK(f.sync(r.keys("session:*", 10)).interrupted);
  CHECK_FALSE(f.sync(r.scan("session:*")));
}

TEST_CASE("seed APIs: key_info in one round trip, the server's own statistics, set_many with a TTL") {
  RedisFixture f;
  auto& r = f.redis;
  REQUIRE(f.sync(r.hset("device:1", {{"a", "1"}, {"b", "2"}})) == 2);
  auto info = f.sync(r.key_info("device:1"));
  REQUIRE(info);
  CHECK(info->type == "hash");
  CHECK(info->ttl_ms == -1);
  REQUIRE(info->memory_bytes);
  CHECK(*info->memory_bytes > 0);
  CHECK(info->encoding == "listpack");
  REQUIRE(f.sync(r.expire("device:1", 60s)));
  CHECK(f.sync(r.key_info("device:1"))->ttl_ms > 50'000);
  CHECK_FALSE(f.sync(r.key_info("missing")));

  REQUIRE(f.sync(r.mset({{"m1", "x"}, {"m2", "y"}}, 120s)));
  CHECK(f.sync(r.ttl("m1")) > 100);
  CHECK(f.sync(r.ttl("m2")) > 100);

  CHECK(f.sync(r.get("m1")) == "x");       // a server-side hit
  CHECK_FALSE(f.sync(r.get("nothing")));   // and a miss
  const auto view = f.sync(r.server_view());
  REQUIRE(view.available);
  CHECK(view.commands_processed > 5);
  CHECK(view.total_keys == 3);
  CHECK(view.connected_clients >= 2);  // our two connections at least
  CHECK(view.sample_complete);
  CHECK(view.keys_under_prefix == 3);
  const auto partial = f.sync(r.server_view(2));
  CHECK(partial.sampled == 2);
  CHECK_FALSE(partial.sample_complete);  // more keys than the sample: said, and no count made up
  CHECK_FALSE(partial.keys_under_prefix);
  CHECK(view.server_hit_rate > 0);
  CHECK(view.server_hit_rate < 1);
  CHECK(view.memory.count("used_memory") == 1);
  CHECK(view.server_stats.count("keyspace_hits") == 1);
}

TEST_CASE("a lock released or renewed by key and token from another request, renewed with a new TTL") {
  RedisFixture f;
  auto& r = f.redis;
  using redis::DistributedLock;
  auto held = f.sync(DistributedLock::acquire(r, "order:9", {.ttl = 5s, .renew = false}));
  REQUIRE(held.acquired());
  CHECK(held.token().size() == 32);
  CHECK(f.sync(held.renew(60s)));  // a new TTL
  CHECK(f.sync(r.pttl("lock:{order:9}")) > 50'000);
  // Another request knows only the key and the token.
  CHECK_FALSE(f.sync(DistributedLock::renew(r, "order:9", "not-the-token", 90s)));
  CHECK(f.sync(DistributedLock::renew(r, "order:9", held.token(), 90s)));
  CHECK(f.sync(r.pttl("lock:{order:9}")) > 80'000);
  CHECK_FALSE(f.sync(DistributedLock::release(r, "order:9", "not-the-token")));
  CHECK(f.sync(r.exists("lock:{order:9}")));
  CHECK(f.sync(DistributedLock::release(r, "order:9", held.token())));
  CHECK_FALSE(f.sync(r.exists("lock:{order:9}")));
  CHECK_FALSE(f.sync(held.renew()));  // it knows it is gone
}

namespace {

// Scripts the server ran so far (INFO commandstats): a lock's renewals are among them.
long long scripts_run(RedisFixture& f) {
  const auto info = f.sync(f.redis.command({"INFO", "commandstats"})).reply.text;
  const auto at = info.find("cmdstat_evalsha:calls=");
  return at == std::string::npos ? 0 : std::atoll(info.c_str() + at + 22);
}

}  // namespace

TEST_CASE("a detached lock outlives its guard: no renewal, held until released by key and token or its TTL") {
  RedisFixture f;
  auto& r = f.redis;
  using redis::DistributedLock;
  std::string id;
  {
    auto guard = f.sync(DistributedLock::acquire(r, "batch:1", {.ttl = 60s}));
    REQUIRE(guard.acquired());
    id = guard.detach();
    CHECK(id == guard.token());
    CHECK(guard.detach().empty());  // nothing left to detach
  }
  CHECK(f.sync(r.exists("lock:{batch:1}")));  // the guard went without releasing it
  CHECK(f.sync(DistributedLock::release(r, "batch:1", id)));

  auto short_one = f.sync(DistributedLock::acquire(r, "batch:2", {.ttl = 300ms}));
  REQUIRE(short_one.acquired());
  short_one.detach();
  REQUIRE(wait_until([&] { return !f.sync(r.exists("lock:{batch:2}")); }, 5s));  // its TTL, not renewed
}

TEST_CASE("with the background renewal on, a renew by key and token to a longer TTL is not put back") {
  RedisFixture f;
  auto& r = f.redis;
  using redis::DistributedLock;
  auto guard = f.sync(DistributedLock::acquire(r, "export:7", {.ttl = 300ms}));  // renewed every 100 ms
  REQUIRE(guard.acquired());
  REQUIRE(f.sync(DistributedLock::renew(r, "export:7", guard.token(), 60s)));
  const auto before = scripts_run(f);
  REQUIRE(wait_until([&] { return scripts_run(f) >= before + 3; }, 10s));  // three renewals at least
  CHECK(f.sync(r.pttl("lock:{export:7}")) > 50'000);
  CHECK_FALSE(guard.lost());
}

TEST_CASE("a guard's renew to a new TTL is the TTL its background renewal keeps from then on") {
  RedisFixture f;
  auto& r = f.redis;
  using redis::DistributedLock;
  auto guard = f.sync(DistributedLock::acquire(r, "report:3", {.ttl = 150ms}));
  REQUIRE(guard.acquired());
  REQUIRE(f.sync(guard.renew(900ms)));  // renewed every 300 ms from now, back to 900 ms
  const auto before = scripts_run(f);
  REQUIRE(wait_until([&] { return scripts_run(f) >= before + 4; }, 10s));  // past the first 900 ms
  CHECK(f.sync(r.pttl("lock:{report:3}")) > 400);  // kept at 150 ms it would be below that
  CHECK_FALSE(guard.lost());
  CHECK(f.sync(guard.release()));
}

TEST_CASE("reads count what Redis answered: a WRONGTYPE is an error, not a miss, and an outage no read at all") {
  RedisFixture f;
  auto& r = f.redis;
  REQUIRE(f.sync(r.lpush("list", {"x"})) == 1);
  const auto before = r.stats();
  CHECK_FALSE(f.sync(r.get("list")));  // WRONGTYPE
  CHECK(r.stats().misses == before.misses);
  CHECK(r.stats().errors == before.errors + 1);
  CHECK_FALSE(f.sync(r.get("absent")));
  CHECK(r.stats().misses == before.misses + 1);
  f.server.kill9();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  CHECK_FALSE(f.sync(r.get("absent")));
  CHECK(r.stats().misses == before.misses + 1);
  CHECK(r.stats().unavailable > before.unavailable);
}

TEST_CASE("mset with a zero or negative TTL is refused before anything is sent: the keys keep their values") {
  RedisFixture f;
  auto& r = f.redis;
  REQUIRE(f.sync(r.set("z1", "old")));
  // Sent, MSET then EXPIRE 0 would have stored "new", deleted the key and answered true.
  CHECK_FALSE(f.sync(r.mset({{"z1", "new"}, {"z2", "new"}}, 0s)));
  CHECK_FALSE(f.sync(r.mset({{"z1", "new"}}, -5s)));
  CHECK(f.sync(r.get("z1")) == "old");
  CHECK_FALSE(f.sync(r.exists("z2")));
  REQUIRE(f.sync(r.mset({{"z1", "new"}}, 1s)));  // the shortest TTL there is still stores
  CHECK(f.sync(r.get("z1")) == "new");
}
