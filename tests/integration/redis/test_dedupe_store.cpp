// DedupeStore against a real redis-server: claim, done, duplicate, release, in-flight and its wait.
#include <catch2/catch.hpp>

#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
using Outcome = redis::DedupeStore::Outcome;

TEST_CASE("dedupe store: the first claim wins, done makes the id a duplicate for the window") {
  RedisFixture f;
  redis::DedupeStore store(f.redis, {.window = 60s, .lease = 5s});
  const auto first = f.sync(store.claim("order-1"));
  CHECK(first.outcome == Outcome::first);
  CHECK_FALSE(first.token.empty());
  CHECK(f.sync(store.claim("order-1")).outcome == Outcome::in_flight);  // not done yet
  CHECK(f.sync(store.done(first)));
  const auto again = f.sync(store.claim("order-1"));
  CHECK(again.outcome == Outcome::duplicate);
  CHECK(again.token.empty());
  CHECK(f.server.command({"GET", "test:dd:{order-1}"}) == "$3\r\nd::\r\n");  // done; no fingerprint, no answers
  const auto ttl = std::stoll(f.server.command({"PTTL", "test:dd:{order-1}"}).substr(1));
  CHECK(ttl > 50'000);
  CHECK(ttl <= 60'000);
  CHECK(std::string(redis::to_string(again.outcome)) == "duplicate");
}

TEST_CASE("dedupe store: a released claim lets the next one through, and done after another claim took over is refused") {
  RedisFixture f;
  redis::DedupeStore store(f.redis, {.window = 60s, .lease = 5s});
  const auto first = f.sync(store.claim("job"));
  REQUIRE(first.outcome == Outcome::first);
  store.release(first);
  REQUIRE(wait_until([&] { return f.server.command({"EXISTS", "test:dd:{job}"}) == ":0\r\n"; }, 10s));
  const auto second = f.sync(store.claim("job"));
  CHECK(second.outcome == Outcome::first);
  CHECK_FALSE(f.sync(store.done(first)));  // the old claim is not the holder any more
  CHECK(f.sync(store.done(second)));
}

TEST_CASE("dedupe store: waiting for an in-flight claim returns its outcome, and a lease that runs out frees the id") {
  RedisFixture f;
  redis::DedupeStore holder(f.redis, {.window = 60s, .lease = 300ms});
  redis::DedupeStore waiter(f.redis, {.window = 60s, .lease = 5s, .wait_for_in_flight = 5s});
  const auto held = f.sync(holder.claim("slow"));
  REQUIRE(held.outcome == Outcome::first);
  // Nobody marks it done: the lease (300 ms) runs out while the waiter waits, and the waiter claims it.
  const auto claimed = f.sync(waiter.claim("slow"));
  CHECK(claimed.outcome == Outcome::first);
}

TEST_CASE("dedupe store: a claim an earlier incarnation of the same owner left is taken over at once, another owner's is not") {
  RedisFixture f;
  // The dead process: the same client id (a kept session's), another incarnation.
  redis::DedupeStore dead(f.redis, {.window = 60s, .lease = 30s, .owner = "svc-1", .incarnation = "0a"});
  redis::DedupeStore restarted(f.redis, {.window = 60s, .lease = 30s, .owner = "svc-1", .incarnation = "0b"});
  redis::DedupeStore other_instance(f.redis, {.window = 60s, .lease = 30s, .owner = "svc-2", .incarnation = "0c"});
  redis::DedupeStore sibling(f.redis, {.window = 60s, .lease = 30s, .owner = "svc-1", .incarnation = "0b"});
  const auto orphan = f.sync(dead.claim("m1"));
  REQUIRE(orphan.outcome == Outcome::first);
  CHECK(f.sync(other_instance.claim("m1")).outcome == Outcome::in_flight);  // alive, as far as it can tell
  const auto taken = f.sync(restarted.claim("m1"));
  CHECK(taken.outcome == Outcome::first);
  CHECK(taken.taken_over);
  CHECK(f.sync(sibling.claim("m1")).outcome == Outcome::in_flight);  // its own incarnation's claim: alive
  CHECK_FALSE(f.sync(dead.done(orphan)));                             // the dead claim lost its hold
  CHECK(f.sync(restarted.done(taken)));
  CHECK(f.sync(restarted.claim("m1")).outcome == Outcome::duplicate);
  // An owner with the marker's separator and Lua pattern and glob characters in it: compared whole.
  const std::string odd_owner = "svc:1/%.*[]^$?";
  redis::DedupeStore odd_dead(f.redis, {.window = 60s, .lease = 30s, .owner = odd_owner, .incarnation = "1a"});
  redis::DedupeStore odd_next(f.redis, {.window = 60s, .lease = 30s, .owner = odd_owner, .incarnation = "1b"});
  redis::DedupeStore odd_prefix(f.redis, {.window = 60s, .lease = 30s, .owner = "svc", .incarnation = "1c"});
  REQUIRE(f.sync(odd_dead.claim("m3")).outcome == Outcome::first);
  CHECK(f.sync(odd_prefix.claim("m3")).outcome == Outcome::in_flight);
  CHECK(f.sync(odd_next.claim("m3")).taken_over);
  // Without an owner, nothing is ever taken over.
  redis::DedupeStore anonymous(f.redis, {.window = 60s, .lease = 30s});
  REQUIRE(f.sync(anonymous.claim("m2")).outcome == Outcome::first);
  redis::DedupeStore anonymous_again(f.redis, {.window = 60s, .lease = 30s, .incarnation = "ff"});
  CHECK(f.sync(anonymous_again.claim("m2")).outcome == Outcome::in_flight);
}

TEST_CASE("dedupe store: with Redis down a claim is unavailable at once") {
  RedisFixture f;
  redis::DedupeStore store(f.redis, {.window = 60s, .lease = 5s, .wait_for_in_flight = 5s});
  f.server.kill9();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  const auto claim = f.sync(store.claim("any"));
  CHECK(claim.outcome == Outcome::unavailable);
  CHECK(claim.token.empty());
}

TEST_CASE("dedupe store: done in the background marks the id done without the caller waiting") {
  RedisFixture f;
  redis::DedupeStore store(f.redis, {.window = 60s, .lease = 5s});
  auto claim = f.sync(store.claim("later"));
  REQUIRE(claim.outcome == Outcome::first);
  store.done_in_background(claim);
  REQUIRE(wait_until([&] { return f.server.command({"GET", "test:dd:{later}"}) == "$3\r\nd::\r\n"; }, 10s));
  CHECK(f.sync(store.claim("later")).outcome == Outcome::duplicate);
}

TEST_CASE("dedupe store: done keeps answers for duplicates, and the same id with other content is id_reused") {
  RedisFixture f;
  redis::DedupeStore store(f.redis, {.window = 60s, .lease = 5s});
  const auto first = f.sync(store.claim("m1", "reading 1"));
  REQUIRE(first.outcome == Outcome::first);
  CHECK(f.sync(store.claim("m1", "reading 2")).outcome == Outcome::id_reused);  // while claimed
  const std::string answers("\x01\0binary:answers:", 17);
  CHECK(f.sync(store.done(first, answers)));
  const auto copy = f.sync(store.claim("m1", "reading 1"));
  CHECK(copy.outcome == Outcome::duplicate);
  CHECK(copy.answers == answers);
  CHECK(f.sync(store.claim("m1", "reading 2")).outcome == Outcome::id_reused);  // once done
  CHECK(f.sync(store.claim("m1")).outcome == Outcome::duplicate);               // no content: the id alone
  CHECK(std::string(redis::to_string(Outcome::id_reused)) == "id_reused");
  // Markers an earlier version wrote still read as they meant.
  f.server.command({"SET", "test:dd:{old}", "done"});
  CHECK(f.sync(store.claim("old", "x")).outcome == Outcome::duplicate);
  f.server.command({"SET", "test:dd:{old-claim}", "claim:abc:0a:svc"});
  CHECK(f.sync(store.claim("old-claim", "x")).outcome == Outcome::in_flight);
}

TEST_CASE("dedupe store: a marker written with the work waits for its answers, and after its process died the next copy answers again from the kept replies") {
  RedisFixture f;
  redis::DedupeStore dead(f.redis, {.window = 60s, .lease = 30s, .owner = "svc", .incarnation = "0a"});
  redis::DedupeStore restarted(f.redis, {.window = 60s, .lease = 30s, .owner = "svc", .incarnation = "0b"});
  redis::DedupeStore live(f.redis, {.window = 60s, .lease = 30s, .owner = "svc", .incarnation = "0a"});

  // The work's pipeline carries the marker; the answers follow after the handler.
  const auto claim = f.sync(live.claim("w1", "c"));
  REQUIRE(claim.outcome == Outcome::first);
  redis::Pipeline pipe(f.redis);
  pipe.set("work:w1", "stored");
  live.done_in(pipe, claim, true);
  REQUIRE(f.sync(pipe.run()));
  CHECK(f.sync(live.claim("w1", "c")).outcome == Outcome::in_flight);  // its process lives: wait for answers
  CHECK(f.sync(live.claim("w1", "other")).outcome == Outcome::id_reused);
  CHECK(f.sync(live.done(claim, "answers")));
  CHECK(f.sync(live.claim("w1", "c")).answers == "answers");

  // The process dies between its work and its answers: the next incarnation's copy takes the claim over
  // with the work's kept replies, and answers again from them without doing the work again.
  const auto orphan = f.sync(dead.claim("w2", "c"));
  redis::Pipeline work(f.redis);
  auto count = work.incr("count:w2");
  dead.done_in(work, orphan, true);
  REQUIRE(f.sync(work.run()));
  REQUIRE(count.get() == 1);
  // The marker written with the work: p:<token>, a NUL, the work's replies.
  const auto pending = f.sync(f.redis.get("dd:{w2}"));
  REQUIRE(pending);
  CHECK(pending->starts_with("p:" + orphan.token + '\0'));
  const auto rebuilt = f.sync(restarted.claim("w2", "c"));
  CHECK(rebuilt.outcome == Outcome::first);
  CHECK(rebuilt.taken_over);
  REQUIRE_FALSE(rebuilt.kept_replies.empty());
  redis::Pipeline again(f.redis);
  auto count_again = again.incr("count:w2");
  restarted.done_in(again, rebuilt, true);
  REQUIRE(f.sync(again.run()));
  CHECK(count_again.get() == 1);                                          // the kept reply
  CHECK(f.server.command({"GET", "test:count:w2"}) == "$1\r\n1\r\n");  // not incremented twice
  CHECK(f.sync(restarted.claim("w2", "c")).outcome == Outcome::in_flight);  // until its answers are kept
  CHECK(f.sync(restarted.done(rebuilt, "answers again")));
  CHECK(f.sync(restarted.claim("w2", "c")).answers == "answers again");
  CHECK(f.sync(f.redis.get("dd:{w2}")) == "d:" + rebuilt.fingerprint + ":answers again");  // replies dropped with it
  CHECK(std::stoll(f.server.command({"PTTL", "test:dd:{w2}"}).substr(1)) > 50'000);  // still the window

  // Without kept replies (a cluster keeps none), the answers are lost: a duplicate says so once.
  const auto orphan2 = f.sync(dead.claim("w4", "c"));
  redis::Pipeline work2(f.redis);
  dead.done_in(work2, orphan2, true);
  REQUIRE(f.sync(work2.run()));
  const auto with_replies = f.sync(f.redis.get("dd:{w4}"));
  REQUIRE(with_replies);
  f.server.command({"SET", "test:dd:{w4}", with_replies->substr(0, with_replies->find('\0')), "KEEPTTL"});
  const auto lost = f.sync(restarted.claim("w4", "c"));
  CHECK(lost.outcome == Outcome::duplicate);
  CHECK(lost.answers_lost);
  const auto later = f.sync(restarted.claim("w4", "c"));
  CHECK(later.outcome == Outcome::duplicate);
  CHECK_FALSE(later.answers_lost);

  // A handler failing after its work landed gives up its claim: the id is done (without answers), not freed.
  const auto failing = f.sync(live.claim("w3"));
  redis::Pipeline stored(f.redis);
  live.done_in(stored, failing, true);
  REQUIRE(f.sync(stored.run()));
  live.release(failing);
  REQUIRE(wait_until([&] { return f.server.command({"GET", "test:dd:{w3}"}) == "$3\r\nd::\r\n"; }, 10s));
  CHECK(f.sync(live.claim("w3")).outcome == Outcome::duplicate);
}

TEST_CASE("dedupe store: markers it did not write (cut short, foreign) are read as done or in flight, never a script error, and an owner holding a NUL is refused") {
  RedisFixture f;
  redis::DedupeStore store(f.redis, {.window = 60s, .lease = 5s, .owner = "svc", .incarnation = "0b"});
  f.server.command({"SET", "test:dd:{d}", "d:no-second-colon"});
  CHECK(f.sync(store.claim("d", "x")).outcome == Outcome::duplicate);
  // The colons after a pending marker's NUL are its replies', not its token's.
  const std::vector<std::string> cuts{"c:", "c:abc", "c:abc:0a", "p:abc:0a", std::string("p:abc:0a\0:x:svc", 16), "xyz"};
  for (const auto& cut : cuts) {
    f.server.command({"SET", "test:dd:{c}", cut});
    INFO(cut);
    CHECK(f.sync(store.claim("c", "x")).outcome == Outcome::in_flight);
  }
  // A NUL ends a pending marker's token.
  CHECK_THROWS_AS(redis::DedupeStore(f.redis, {.owner = std::string("a\0b", 3)}), std::invalid_argument);
}
