// The cluster's sans-IO pieces against a real Redis Cluster (three masters, three replicas on
// loopback): our hash slots agree with CLUSTER KEYSLOT, CLUSTER SLOTS reads into a map serving every
// slot, and the MOVED and ASK errors real nodes send read as redirections to the node they name.
#include <catch2/catch.hpp>

#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "plugins/redis/cluster/cluster_replies.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/protocol/reply_parser.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::redis;
using routemq::test::RedisCluster;

namespace {

Reply parse(const std::string& raw) {
  ReplyParser parser;
  parser.feed(raw);
  auto reply = parser.next();
  REQUIRE(reply);
  return *reply;
}

struct FreeContext {
  void operator()(redisContext* context) const { redisFree(context); }
};

// Many commands on one connection, pipelined: their integer replies in order.
std::vector<long long> integers(std::uint16_t port, const std::vector<std::vector<std::string>>& commands) {
  std::unique_ptr<redisContext, FreeContext> context(redisConnect("127.0.0.1", port));
  REQUIRE((context && !context->err));
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(context.get(), static_cast<int>(args.size()), argv.data(), lengths.data());
  }
  std::vector<long long> values;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    REQUIRE(redisGetReply(context.get(), &raw) == REDIS_OK);
    auto* reply = static_cast<redisReply*>(raw);
    values.push_back(reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1);
    freeReplyObject(reply);
  }
  return values;
}

std::vector<std::string> awkward_keys() {
  std::vector<std::string> keys = {"", "{", "}", "{}", "{}{a}", "a{b}c", "{{a}}", "a{}b{c}", "{user:42}:cart",
                                   "routemq:telemetry:{device-7}:last", std::string(1000, 'k'), std::string(3, '\0')};
  std::mt19937 random(42);
  for (int i = 0; i < 3000; ++i) {
    std::string key(1 + random() % 40, ' ');
    for (auto& c : key) c = static_cast<char>(random() % 256);  // any byte, braces included
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

TEST_CASE("cluster protocol: our hash slots agree with CLUSTER KEYSLOT for thousands of keys, any bytes") {
  const auto keys = awkward_keys();
  std::vector<std::vector<std::string>> commands;
  for (const auto& key : keys) commands.push_back({"CLUSTER", "KEYSLOT", key});
  const auto slots = integers(RedisCluster::shared().node(0).port(), commands);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO("key #" << i);
    CHECK(slots[i] == hash_slot(keys[i]));
  }
}

TEST_CASE("cluster protocol: CLUSTER SLOTS of a real cluster serves every slot, and MOVED names the map's node") {
  auto& node = RedisCluster::shared().node(0);
  const NodeAddress asked{"127.0.0.1", node.port()};
  std::string why;
  std::optional<SlotMap> map;
  // Replicas appear in CLUSTER SLOTS once gossip has told this node about them.
  REQUIRE(routemq::test::wait_until(
      [&] {
        map = SlotMap::from_cluster_slots(parse(node.command({"CLUSTER", "SLOTS"})), asked, why);
        if (!map) return false;
        for (const auto& master : map->masters())
          if (map->replicas_of(master).empty()) return false;
        return true;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(20)));
  CHECK(map->unserved_slots() == 0);
  CHECK(map->masters().size() == 3);
  for (const auto& master : map->masters()) CHECK(map->replicas_of(master).size() == 1);

  // Every key asked of a master that does not serve it is MOVED to the one the map names.
  int redirected = 0;
  for (int i = 0; i < 200; ++i) {
    const auto key = "key:" + std::to_string(i);
    const auto* owner = map->master_of(hash_slot(key));
    REQUIRE(owner);
    for (const auto& other : map->masters()) {
      if (other == *owner) continue;
      const auto reply = parse(RedisCluster::shared().node_on(static_cast<std::uint16_t>(other.port))->command({"GET", key}));
      const auto redirect = redirect_from(reply, other);
      REQUIRE(redirect);
      CHECK(redirect->kind == Redirect::Kind::moved);
      CHECK(redirect->slot == hash_slot(key));
      CHECK(redirect->to == *owner);
      ++redirected;
    }
  }
  CHECK(redirected == 400);
}

TEST_CASE("cluster protocol: a slot being migrated answers ASK for keys already moved, naming the importing node") {
  auto& cluster_nodes = RedisCluster::shared();
  const std::string key = "{migrating}:k";
  const auto slot = hash_slot(key);
  auto* source = cluster_nodes.node_on(cluster_nodes.master_port_of(slot));
  REQUIRE(source);
  const auto source_id = parse(source->command({"CLUSTER", "MYID"})).text;
  // The importing node: another master.
  routemq::test::RedisServer* target = nullptr;
  for (std::size_t i = 0; i < cluster_nodes.size() && !target; ++i) {
    auto& candidate = cluster_nodes.node(i);
    if (&candidate != source && parse(candidate.command({"ROLE"})).elements.at(0).text == "master") target = &candidate;
  }
  REQUIRE(target);
  const auto target_id = parse(target->command({"CLUSTER", "MYID"})).text;
  const auto slot_text = std::to_string(slot);
  REQUIRE(source->command({"SET", "{migrating}:here", "1"}) == "+OK\r\n");  // stays on the source
  REQUIRE(target->command({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", source_id}) == "+OK\r\n");
  REQUIRE(source->command({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", target_id}) == "+OK\r\n");

  // The key is not on the source (never written, or moved already): the source sends us on with ASK.
  const NodeAddress asked{"127.0.0.1", source->port()};
  const auto redirect = redirect_from(parse(source->command({"GET", key})), asked);
  REQUIRE(redirect);
  CHECK(redirect->kind == Redirect::Kind::ask);
  CHECK(redirect->slot == slot);
  CHECK(redirect->to == NodeAddress{"127.0.0.1", target->port()});
  // A multi-key command over keys split by the move is told to try again.
  CHECK(retry_later(parse(source->command({"MGET", "{migrating}:here", key}))));

  // Put the slot back as it was, for the tests after this one.
  REQUIRE(source->command({"DEL", "{migrating}:here"}) == ":1\r\n");
  for (auto* node : {source, target})
    REQUIRE(node->command({"CLUSTER", "SETSLOT", slot_text, "NODE", source_id}) == "+OK\r\n");
  CHECK(cluster_nodes.wait_ok());
}
