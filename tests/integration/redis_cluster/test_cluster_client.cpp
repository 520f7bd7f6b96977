// The RedisManager on a real Redis Cluster (three masters, three replicas on loopback): commands go
// to the master of their keys' slot, keys in one hash tag run together and keys in several slots are
// refused before sending, and a slot moved under the client (MOVED) or being moved (ASK) is
// followed without the caller seeing it.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/recipes/invalidation.hpp"
#include "tests/support/received_messages.hpp"
#include "tests/integration/redis_cluster/cluster_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

std::string node_id(RedisServer& node) {
  const auto reply = node.command({"CLUSTER", "MYID"});  // "$40\r\n<id>\r\n"
  return reply.substr(reply.find("\r\n") + 2, 40);
}

// Some master other than the one serving `slot` now.
RedisServer& other_master(std::uint16_t slot) {
  const auto serving = RedisCluster::shared().master_port_of(slot);
  for (std::size_t i = 0; i < RedisCluster::shared().size(); ++i) {
    auto& node = RedisCluster::shared().node(i);
    if (node.port() != serving && node.command({"ROLE"}).find("master") != std::string::npos) return node;
  }
  FAIL("no other master");
  throw std::logic_error("unreachable");
}

// Gives `slot` to `to`, telling every master, and waits until every master names it.
//
// The new owner's claim must carry a config epoch no other node has. A claim that meets another with
// an equal or greater epoch loses, and the loser gives up the slot with the keys imported into it:
// seen in CI, the new owner answering MOVED, or the key just written there by ASK gone. Its epoch can
// fall short when it bumps before hearing of another node's bump (a previous move), and an owner
// that was not importing the slot gets no bump from SETSLOT at all. So every node first agrees on
// the current epoch, then the new owner takes the next one (BUMPEPOCH), then claims the slot.
void give_slot(std::uint16_t slot, RedisServer& to) {
  auto& cluster = RedisCluster::shared();
  const auto id = node_id(to);
  const auto slot_text = std::to_string(slot);
  REQUIRE(cluster.wait_epochs_agree());
  REQUIRE(to.command({"CLUSTER", "BUMPEPOCH"}).starts_with("+"));
  REQUIRE(to.command({"CLUSTER", "SETSLOT", slot_text, "NODE", id}) == "+OK\r\n");
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    auto& node = cluster.node(i);
    if (&node != &to && node.command({"ROLE"}).find("master") != std::string::npos)
      REQUIRE(node.command({"CLUSTER", "SETSLOT", slot_text, "NODE", id}) == "+OK\r\n");
  }
  REQUIRE(wait_until([&] { return cluster.every_master_names(slot, to.port()); }, 10s));
}

}  // namespace

TEST_CASE("cluster client: keys spread over every master, each on the master of its slot") {
  redis::RedisManager r(cluster_config("spread:"));
  wait_all_masters(r);
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 300; ++i) {
    const auto key = "k" + std::to_string(i);
    REQUIRE(r.run_sync(r.set(key, "v" + std::to_string(i))));
    const auto port = RedisCluster::shared().master_port_of(redis::hash_slot("spread:" + key));
    CHECK(RedisCluster::shared().node_on(port)->command({"GET", "spread:" + key}) == "$" + std::to_string(1 + std::to_string(i).size()) + "\r\nv" + std::to_string(i) + "\r\n");
    masters_used.insert(port);
  }
  CHECK(masters_used.size() == 3);
  for (int i = 0; i < 300; i += 7) CHECK(r.run_sync(r.get("k" + std::to_string(i))) == "v" + std::to_string(i));
  CHECK(r.run_sync(r.command({"PING"})).reply.text == "PONG");  // keyless: any master
  CHECK(r.stats().unavailable == 0);
}

TEST_CASE("cluster client: max_connections is shared out among the masters, at least one each") {
  const auto [connections, each] = GENERATE(table<int, std::size_t>({{4, 1}, {7, 2}, {1, 1}, {9, 3}}));
  auto config = cluster_config("shared-out:");
  config.max_connections = connections;
  redis::RedisManager r(config);
  REQUIRE(r.initialize());
  INFO("max_connections " << connections);
  CHECK(wait_until([&] { return r.stats().connections_ready == 3 * each; }, 10s));
  const auto masters = r.stats().cluster_masters;
  REQUIRE(masters.size() == 3);
  for (const auto& master : masters) CHECK(master.connections_ready == each);
}

TEST_CASE("cluster client: keys in one hash tag run together, keys in several slots are refused naming them") {
  redis::RedisManager r(cluster_config("tags:"));
  wait_all_masters(r);
  CHECK(r.run_sync(r.sadd("{user:1}:a", {"x", "y"})) == 2);
  CHECK(r.run_sync(r.sadd("{user:1}:b", {"y", "z"})) == 2);
  CHECK(r.run_sync(r.command({"SINTER", "tags:{user:1}:a", "tags:{user:1}:b"})).reply ==
        redis::Reply::array({redis::Reply::string("y")}));
  CHECK(r.run_sync(r.rename("{user:1}:a", "{user:1}:c")));  // one slot: a single node runs it

  REQUIRE(redis::hash_slot("tags:foo") != redis::hash_slot("tags:bar"));
  const auto apart = r.run_sync(r.command({"SUNION", "tags:foo", "tags:bar"}));
  CHECK(apart.failure == redis::Failure::refused);
  CHECK_THAT(apart.detail, Catch::Contains("different cluster slots") && Catch::Contains("tags:foo") &&
                               Catch::Contains("tags:bar") && Catch::Contains("hash tag"));
}

TEST_CASE("cluster client: MGET, MSET, DEL and EXISTS over keys on every master, split per slot and put back in order") {
  redis::RedisManager r(cluster_config("multi:"));
  wait_all_masters(r);
  std::vector<std::string> keys;
  std::vector<std::string> mset = {"MSET"};  // raw: the manager's mset() is all-or-none, a transaction
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 50; ++i) {
    keys.push_back("m" + std::to_string(i));
    mset.insert(mset.end(), {"multi:" + keys.back(), "v" + std::to_string(i)});
    masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("multi:" + keys.back())));
  }
  REQUIRE(masters_used.size() == 3);
  CHECK(r.run_sync(r.command(mset)).reply == redis::Reply::status("OK"));
  auto asked = keys;
  asked.insert(asked.begin() + 10, "missing");
  const auto values = r.run_sync(r.mget(asked));
  REQUIRE(values.size() == 51);
  CHECK(values[0] == "v0");
  CHECK(values[10] == std::nullopt);
  CHECK(values[11] == "v10");
  CHECK(values[50] == "v49");
  std::vector<std::string> exists = {"EXISTS"};
  for (const auto& key : asked) exists.push_back("multi:" + key);
  CHECK(r.run_sync(r.command(exists)).reply.integer == 50);
  CHECK(r.run_sync(r.del(asked)) == 50);
  CHECK(r.run_sync(r.command(exists)).reply.integer == 0);
}

TEST_CASE("cluster client: the manager's mset over keys on every master sets each with its TTL") {
  redis::RedisManager r(cluster_config("mset:"));
  wait_all_masters(r);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 40; ++i) {
    pairs.emplace_back("k" + std::to_string(i), "v" + std::to_string(i));
    masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("mset:" + pairs.back().first)));
  }
  REQUIRE(masters_used.size() == 3);
  CHECK(r.run_sync(r.mset(pairs, 60s)));
  for (const auto& [name, value] : pairs) {
    CHECK(r.run_sync(r.get(name)) == value);
    const auto left = r.run_sync(r.ttl(name));
    CHECK((left > 50 && left <= 60));
  }
  // Within one hash tag it is still one transaction; without a TTL the keys persist.
  CHECK(r.run_sync(r.mset({{"{u:1}:a", "1"}, {"{u:1}:b", "2"}})));
  CHECK(r.run_sync(r.ttl("{u:1}:b")) == -1);
}

TEST_CASE("cluster client: keys(), scan() and pattern invalidation see every master, pub/sub works through any node") {
  redis::RedisManager r(cluster_config("scan:"));
  wait_all_masters(r);
  for (int i = 0; i < 120; ++i) REQUIRE(r.run_sync(r.set("item:" + std::to_string(i), "v")));
  REQUIRE(r.run_sync(r.set("other", "v")));
  const auto found = r.run_sync(r.keys("item:*"));
  CHECK(std::set<std::string>(found.begin(), found.end()).size() == 120);

  // Paging by hand: the cursor is opaque, "0" to start and at the end, as on one Redis.
  std::set<std::string> paged;
  std::string cursor = "0";
  int pages = 0;
  do {
    const auto page = r.run_sync(r.scan("item:*", cursor));
    REQUIRE(page);
    paged.insert(page->names.begin(), page->names.end());
    cursor = page->cursor;
  } while (cursor != "0" && ++pages < 1000);
  CHECK(paged.size() == 120);

  redis::Invalidation invalidation(r);
  CHECK(r.run_sync(invalidation.invalidate_pattern("item:*")) == 120);
  CHECK(r.run_sync(r.keys("*")) == std::vector<std::string>{"other"});

  ReceivedMessages received;
  r.subscribe("news", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  CHECK(r.run_sync(r.publish("news", "hello")) >= 0);  // published through any master, delivered cluster-wide
  CHECK(wait_until([&] { return received.contains("news:hello"); }, 10s));
}

TEST_CASE("cluster client: BLPOP and leases connect to the master of their key, on every master") {
  redis::RedisManager r(cluster_config("lease:"));
  wait_all_masters(r);
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 12; ++i) {
    const auto queue = "queue:" + std::to_string(i);
    masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("lease:" + queue)));
    REQUIRE(r.run_sync(r.rpush(queue, {"job"})) == 1);
    CHECK(r.run_sync(r.blpop({queue}, 1s)) == std::pair<std::string, std::string>{queue, "job"});

    // WATCH ... MULTI ... EXEC on the key's own master.
    auto lease = r.lease({.key = r.key(queue)});
    CHECK(r.run_sync(lease.command({"WATCH", r.key(queue)})).succeeded());
    redis::Batch update;
    update.push({"SET", r.key(queue), "done"});
    CHECK(r.run_sync(lease.transaction(update)).succeeded());
    CHECK(r.run_sync(r.get(queue)) == "done");
  }
  CHECK(masters_used.size() == 3);
}

TEST_CASE("cluster client: a pipeline over keys on every master runs, replies in order, a transaction over them is refused") {
  redis::RedisManager r(cluster_config("piped:"));
  wait_all_masters(r);
  redis::Pipeline pipe(r);
  std::vector<redis::Queued<std::optional<long long>>> counts;
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 30; ++i) {
    const auto key = "n" + std::to_string(i);
    masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("piped:" + key)));
    for (int j = 0; j <= i % 3; ++j) counts.push_back(pipe.incr(key));  // 1, 2 or 3 increments per key
  }
  auto read_back = pipe.get("n2");
  auto missing = pipe.get("missing");
  REQUIRE(masters_used.size() == 3);
  REQUIRE(r.run_sync(pipe.run()));
  std::size_t at = 0;
  for (int i = 0; i < 30; ++i)
    for (int j = 0; j <= i % 3; ++j) CHECK(counts[at++].get() == j + 1);  // each reply where it belongs
  CHECK(read_back.get() == "3");
  CHECK(missing.get() == std::nullopt);

  redis::Batch batch;
  batch.push({"INCR", r.key("n0")});
  batch.push({"INCR", r.key("n1")});
  const auto refused = r.run_sync(r.transaction(batch));
  CHECK(refused.failure == redis::Failure::refused);
  CHECK_THAT(refused.detail, Catch::Contains("different cluster slots"));
  CHECK(r.run_sync(r.get("n0")) == "1");  // nothing of it ran

  redis::Pipeline typed(r);  // the same as a typed transaction: refused as a whole, never split
  auto n0 = typed.incr("n0");
  typed.incr("n1");
  CHECK_FALSE(r.run_sync(typed.run_atomically()));
  CHECK_FALSE(n0.get());
  CHECK(r.run_sync(r.get("n0")) == "1");
}

TEST_CASE("cluster client: a slot moved to another master is followed (MOVED), the caller sees only its reply") {
  redis::RedisManager r(cluster_config("moved:"));
  wait_all_masters(r);
  const std::string key = "{moving-slot}:k";
  const auto slot = redis::hash_slot("moved:" + key);
  const auto before = RedisCluster::shared().master_port_of(slot);
  CHECK(r.run_sync(r.get(key)) == std::nullopt);  // the client knows where the slot is now
  auto& target = other_master(slot);
  give_slot(slot, target);

  const auto redirects_before = r.stats().redirects;
  CHECK(r.run_sync(r.set(key, "here")));
  CHECK(target.command({"GET", "moved:" + key}) == "$4\r\nhere\r\n");
  CHECK(r.run_sync(r.get(key)) == "here");
  CHECK(r.stats().redirects > redirects_before);

  // Back where it was, for the other tests.
  REQUIRE(target.command({"DEL", "moved:" + key}) == ":1\r\n");
  give_slot(slot, *RedisCluster::shared().node_on(before));
}

TEST_CASE("cluster client: a slot being migrated sends new keys on with ASK, followed once with ASKING") {
  redis::RedisManager r(cluster_config("ask:"));
  wait_all_masters(r);
  const std::string key = "{asked-slot}:k";
  const auto slot = redis::hash_slot("ask:" + key);
  auto* source = RedisCluster::shared().node_on(RedisCluster::shared().master_port_of(slot));
  REQUIRE(source);
  auto& target = other_master(slot);
  const auto slot_text = std::to_string(slot);
  REQUIRE(target.command({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", node_id(*source)}) == "+OK\r\n");
  REQUIRE(source->command({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", node_id(target)}) == "+OK\r\n");

  const auto redirects_before = r.stats().redirects;
  CHECK(r.run_sync(r.set(key, "new")));  // not on the source: ASK, then ASKING + SET on the target
  CHECK(r.stats().redirects == redirects_before + 1);

  // The slot finishes its move to the target (every master is told): the key was written there.
  give_slot(slot, target);
  CHECK(target.command({"GET", "ask:" + key}) == "$3\r\nnew\r\n");
  CHECK(r.run_sync(r.get(key)) == "new");
  REQUIRE(target.command({"DEL", "ask:" + key}) == ":1\r\n");
  give_slot(slot, *source);
}

namespace {

// DBSIZE of every master, asked directly.
long long keys_on_every_master() {
  auto& cluster = RedisCluster::shared();
  long long total = 0;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    auto& node = cluster.node(i);
    if (node.command({"ROLE"}).find("master") == std::string::npos) continue;
    const auto reply = node.command({"DBSIZE"});  // ":12\r\n"
    total += std::atoll(reply.c_str() + 1);
  }
  return total;
}

}  // namespace

TEST_CASE("cluster client: server_view sums every master, key_info reads a key on any master") {
  redis::RedisManager r(cluster_config("view:"));
  wait_all_masters(r);
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 30; ++i) {
    const auto name = "h" + std::to_string(i);
    REQUIRE(r.run_sync(r.hset(name, "f", "v")) == 1);
    masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("view:" + name)));
  }
  REQUIRE(masters_used.size() == 3);

  // The other cases' keys may expire meanwhile: compare with the masters' own count taken around it.
  redis::ServerView view;
  bool same_count = false;
  for (int attempt = 0; attempt < 3 && !same_count; ++attempt) {
    const auto before = keys_on_every_master();
    view = r.run_sync(r.server_view());
    same_count = before == keys_on_every_master() && view.dbsize == before;
  }
  CHECK(same_count);  // one master's DBSIZE alone (what it was) is about a third of this
  CHECK(view.available);
  CHECK(view.servers == 3);
  CHECK(view.unanswered.empty());
  CHECK(view.total_keys >= 30);
  CHECK(view.connected_clients >= 6);  // our two connections on each master at least
  CHECK(view.sample_complete);
  CHECK(view.keys_under_prefix == 30);
  CHECK(view.types == std::map<std::string, long long>{{"hash", 30}});

  for (int i = 0; i < 30; i += 10) {  // keys on several masters: each asked of its own
    const auto info = r.run_sync(r.key_info("h" + std::to_string(i)));
    REQUIRE(info);
    CHECK(info->type == "hash");
    CHECK(info->ttl_ms == -1);
    CHECK(info->encoding == "listpack");
    REQUIRE(info->memory_bytes);
    CHECK(*info->memory_bytes > 0);
  }
  CHECK_FALSE(r.run_sync(r.key_info("missing")));
  std::vector<std::string> names;
  for (int i = 0; i < 30; ++i) names.push_back("h" + std::to_string(i));
  CHECK(r.run_sync(r.del(names)) == 30);  // the cluster is the process's: leave it as found
}
