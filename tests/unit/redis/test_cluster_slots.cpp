// Redis Cluster without servers: hash slots and hash tags, the keys of encoded commands, CLUSTER
// SLOTS read into a slot map, MOVED / ASK / TRYAGAIN replies, and what each reply leads to.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/cluster/cluster_replies.hpp"
#include "plugins/redis/cluster/command_keys.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/cluster/redirections.hpp"
#include "plugins/redis/cluster/scan_cursor.hpp"
#include "plugins/redis/cluster/slot_split.hpp"
#include "plugins/redis/protocol/encoder.hpp"

using namespace routemq::redis;

namespace {

std::vector<std::string_view> views(const std::vector<std::string>& args) { return {args.begin(), args.end()}; }

std::vector<std::string> keys_of(const std::vector<std::string>& args) {
  const auto found = command_keys(views(args));
  return {found.begin(), found.end()};
}

Reply node(const std::string& host, long long port, const std::string& id) {
  return Reply::array({Reply::string(host), Reply::number(port), Reply::string(id)});
}

// CRC16-XMODEM a bit at a time, as its definition reads: what the table-driven one must match.
std::uint16_t crc16_bitwise(std::string_view bytes) {
  unsigned crc = 0;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned>(static_cast<unsigned char>(c)) << 8;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return static_cast<std::uint16_t>(crc);
}

}  // namespace

TEST_CASE("cluster: CRC16 two bytes at a time equals the bitwise definition, at every length and byte value") {
  std::string bytes;
  for (int length = 0; length <= 300; ++length) {  // odd and even lengths: the last byte alone or in a pair
    REQUIRE(crc16_xmodem(bytes) == crc16_bitwise(bytes));
    bytes.push_back(static_cast<char>((length * 167 + 13) & 0xff));  // every byte value, in a scrambled order
  }
  for (int value = 0; value < 256; ++value)
    for (const auto& shape : {std::string(1, static_cast<char>(value)), std::string(2, static_cast<char>(value)),
                              std::string("k") + static_cast<char>(value) + "ey"})
      REQUIRE(crc16_xmodem(shape) == crc16_bitwise(shape));
}

TEST_CASE("cluster: CRC16 and hash slots as Redis computes them") {
  CHECK(crc16_xmodem("123456789") == 0x31C3);  // the XMODEM check value
  CHECK(hash_slot("foo") == 12182);
  CHECK(hash_slot("bar") == 5061);
  CHECK(hash_slot("") == 0);
  // Hash tags: the first {...} that is not empty, else the whole key.
  CHECK(hash_slot("{user1000}.following") == hash_slot("{user1000}.followers"));
  CHECK(hashed_part("{user1000}.following") == "user1000");
  CHECK(hashed_part("foo{}{bar}") == "foo{}{bar}");
  CHECK(hashed_part("foo{{bar}}zap") == "{bar");
  CHECK(hashed_part("foo{bar}{zap}") == "bar");
  CHECK(hashed_part("no tag {here") == "no tag {here");
  CHECK(hashed_part("}{x}") == "x");
  // Hostile keys: any bytes, any size, always a slot in range.
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  CHECK(hash_slot(bytes) < cluster_slots);
  CHECK(hash_slot(std::string(1 << 20, '{')) < cluster_slots);
}

TEST_CASE("cluster: the keys of a command, for commands whose keys are not just the first argument") {
  using Keys = std::vector<std::string>;
  CHECK(keys_of({"GET", "a"}) == Keys{"a"});
  CHECK(keys_of({"set", "a", "1", "EX", "10"}) == Keys{"a"});
  CHECK(keys_of({"HSET", "h", "f", "v"}) == Keys{"h"});
  CHECK(keys_of({"DEL", "a", "b", "c"}) == Keys{"a", "b", "c"});
  CHECK(keys_of({"MSET", "a", "1", "b", "2"}) == Keys{"a", "b"});
  CHECK(keys_of({"EVALSHA", "abc", "2", "k1", "k2", "arg"}) == Keys{"k1", "k2"});
  CHECK(keys_of({"EVAL", "return 1", "0", "arg"}).empty());
  CHECK(keys_of({"EVAL", "return 1", "9", "k1"}) == Keys{"k1"});  // fewer than it says: what is there
  CHECK(keys_of({"EVAL", "return 1", "x", "k1"}).empty());        // not a number: none
  CHECK(keys_of({"BLPOP", "q1", "q2", "5"}) == Keys{"q1", "q2"});
  CHECK(keys_of({"RENAME", "a", "b"}) == Keys{"a", "b"});
  CHECK(keys_of({"LMOVE", "a", "b", "LEFT", "RIGHT"}) == Keys{"a", "b"});
  CHECK(keys_of({"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}) == Keys{"d", "a", "b"});
  CHECK(keys_of({"ZUNION", "2", "a", "b"}) == Keys{"a", "b"});
  CHECK(keys_of({"BITOP", "AND", "d", "a", "b"}) == Keys{"d", "a", "b"});
  CHECK(keys_of({"MEMORY", "USAGE", "a"}) == Keys{"a"});
  CHECK(keys_of({"XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}) == Keys{"s1", "s2"});
  CHECK(keys_of({"PING"}).empty());
  CHECK(keys_of({"PUBLISH", "news", "hello"}).empty());
  CHECK(keys_of({"SCRIPT", "LOAD", "return 1"}).empty());
  CHECK(keys_of({}).empty());
}

TEST_CASE("cluster: where a request runs: any node, one slot, or refused as cross-slot naming its keys") {
  CHECK(slot_of_request(encode_command({"PING"})).kind == RequestSlot::Kind::any_node);
  const auto one = slot_of_request(encode_command({"GET", "foo"}));
  CHECK(one.kind == RequestSlot::Kind::one_slot);
  CHECK(one.slot == 12182);
  CHECK(one.keys.empty());

  // A pipeline or transaction: every key must share the slot.
  std::string tagged = "*1\r\n$5\r\nMULTI\r\n";
  tagged += encode_command({"SET", "{user:1}:a", "1"});
  tagged += encode_command({"INCR", "{user:1}:b"});
  tagged += "*1\r\n$4\r\nEXEC\r\n";
  const auto together = slot_of_request(tagged);
  CHECK(together.kind == RequestSlot::Kind::one_slot);
  CHECK(together.slot == hash_slot("user:1"));

  const auto apart = slot_of_request(encode_command({"MGET", "foo", "bar"}));
  CHECK(apart.kind == RequestSlot::Kind::cross_slot);
  CHECK(apart.keys == std::vector<std::string>{"foo", "bar"});

  // A request's commands one by one, as their bytes.
  const auto commands = each_command(tagged);
  REQUIRE(commands.size() == 4);
  CHECK(commands[1] == encode_command({"SET", "{user:1}:a", "1"}));
  CHECK(commands[3] == "*1\r\n$4\r\nEXEC\r\n");
  CHECK(each_command("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET").empty());  // unreadable: none

  // Anything else is unreadable, never a guess.
  for (const std::string bad : {"GET foo\r\n", "*2\r\n$3\r\nGET\r\n", "*1\r\n$9\r\nGET\r\n", "*99999999999\r\n",
                                "*1\r\n$-1\r\n", "*1\r\n$3\r\nGETxx"})
    CHECK(slot_of_request(bad).kind == RequestSlot::Kind::unreadable);
}

TEST_CASE("cluster: CLUSTER SLOTS read into a slot map, masters and replicas") {
  const NodeAddress asked{"127.0.0.1", 7000};
  const auto reply = Reply::array({
      Reply::array({Reply::number(0), Reply::number(5460), node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7003, "d")}),
      Reply::array({Reply::number(5461), Reply::number(10922), node("", 7001, "b")}),  // "": the node we asked's host
      Reply::array({Reply::number(10923), Reply::number(16383), node("10.0.0.3", 7002, "c"), node("?", 0, "x")}),
  });
  std::string why;
  auto map = SlotMap::from_cluster_slots(reply, asked, why);
  REQUIRE(map);
  CHECK(map->unserved_slots() == 0);
  CHECK(*map->master_of(0) == NodeAddress{"127.0.0.1", 7000});
  CHECK(*map->master_of(5461) == NodeAddress{"127.0.0.1", 7001});
  CHECK(*map->master_of(16383) == NodeAddress{"10.0.0.3", 7002});
  CHECK(map->masters().size() == 3);
  CHECK(map->replicas_of({"127.0.0.1", 7000}) == std::vector<NodeAddress>{{"127.0.0.1", 7003}});
  CHECK(map->replicas_of({"10.0.0.3", 7002}).empty());  // "?": an endpoint the node does not know

  map->move(100, {"127.0.0.1", 7001});
  CHECK(*map->master_of(100) == NodeAddress{"127.0.0.1", 7001});
  map->move(200, {"127.0.0.1", 7009});  // a master not seen before
  CHECK(map->masters().size() == 4);
  CHECK(map->master_of(cluster_slots) == nullptr);

  // Slots nobody serves (a cluster being built) are counted, not invented.
  const auto partial = SlotMap::from_cluster_slots(
      Reply::array({Reply::array({Reply::number(0), Reply::number(99), node("127.0.0.1", 7000, "a")})}), asked, why);
  REQUIRE(partial);
  CHECK(partial->unserved_slots() == cluster_slots - 100);
  CHECK(partial->master_of(100) == nullptr);

  for (const auto& bad : {Reply::error("ERR This instance has cluster support disabled"),
                          Reply::array({Reply::array({Reply::number(5), Reply::number(1), node("h", 1, "a")})}),
                          Reply::array({Reply::array({Reply::number(0), Reply::number(16384), node("h", 1, "a")})}),
                          Reply::array({Reply::array({Reply::number(0), Reply::number(1), node("h", 70000, "a")})}),
                          Reply::array({Reply::array({Reply::number(0), Reply::number(1)})}), Reply::string("x")}) {
    CHECK_FALSE(SlotMap::from_cluster_slots(bad, asked, why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("cluster: MOVED and ASK redirections, TRYAGAIN and CLUSTERDOWN") {
  const NodeAddress asked{"10.0.0.1", 7000};
  const auto moved = redirect_from(Reply::error("MOVED 3999 127.0.0.1:6381"), asked);
  REQUIRE(moved);
  CHECK(moved->kind == Redirect::Kind::moved);
  CHECK(moved->slot == 3999);
  CHECK(moved->to == NodeAddress{"127.0.0.1", 6381});
  const auto ask = redirect_from(Reply::error("ASK 16383 [::1]:7002"), asked);
  REQUIRE(ask);
  CHECK(ask->kind == Redirect::Kind::ask);
  CHECK(ask->to == NodeAddress{"::1", 7002});
  const auto same_host = redirect_from(Reply::error("MOVED 1 :7005"), asked);  // unknown endpoint: the host asked
  REQUIRE(same_host);
  CHECK(same_host->to == NodeAddress{"10.0.0.1", 7005});

  for (const std::string bad : {"MOVED", "MOVED 3999", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h", "MOVED 1 h:0",
                                "ERR unknown command", "MOVEDX 1 h:1"})
    CHECK_FALSE(redirect_from(Reply::error(bad), asked));
  CHECK_FALSE(redirect_from(Reply::string("MOVED 1 h:1"), asked));  // a value, not an error

  CHECK(retry_later(Reply::error("TRYAGAIN Multiple keys request during rehashing of slot")));
  CHECK(retry_later(Reply::error("CLUSTERDOWN The cluster is down")));
  CHECK_FALSE(retry_later(Reply::error("ERR wrong number of arguments")));
}

TEST_CASE("cluster: what a node's reply leads to: deliver, follow MOVED and ASK, retry, relearn, give up") {
  using Kind = NextStep::Kind;
  using std::chrono::milliseconds;
  const NodeAddress a{"127.0.0.1", 7000};
  const NodeAddress b{"127.0.0.1", 7001};
  std::string why;
  auto map = *SlotMap::from_cluster_slots(
      Reply::array({Reply::array({Reply::number(0), Reply::number(16383), node("127.0.0.1", 7000, "a")})}), a, why);

  Redirections redirections;
  CHECK(redirections.after(Reply::string("v"), a, map).kind == Kind::deliver);
  CHECK(redirections.after(Reply::error("WRONGTYPE Operation against a key"), a, map).kind == Kind::deliver);
  CHECK(redirections.after(Reply::error("ERR unknown command"), a, map).kind == Kind::deliver);

  const auto ask = redirections.after(Reply::error("ASK 12182 127.0.0.1:7001"), a, map);
  CHECK(ask.kind == Kind::ask_at);
  CHECK(ask.node == b);
  CHECK(*map.master_of(12182) == a);  // ASK is for this request only

  const auto moved = redirections.after(Reply::error("MOVED 12182 127.0.0.1:7001"), a, map);
  CHECK(moved.kind == Kind::send_to);
  CHECK(moved.node == b);
  CHECK(*map.master_of(12182) == b);  // every later command for the slot goes there at once
  CHECK(*map.master_of(12183) == a);

  // Five redirections in all are followed; the sixth gives up with the last reply's words.
  for (int i = 0; i < 3; ++i) CHECK(redirections.after(Reply::error("MOVED 1 127.0.0.1:7001"), a, map).kind == Kind::send_to);
  const auto looping = redirections.after(Reply::error("MOVED 1 127.0.0.1:7000"), b, map);
  CHECK(looping.kind == Kind::give_up);
  CHECK_THAT(looping.why, Catch::Contains("more than 5 redirections") && Catch::Contains("MOVED 1"));

  // Retries wait longer each time, up to the longest wait, then give up.
  Redirections patient({.redirections = 5, .retries = 7, .first_wait = milliseconds(10), .longest_wait = milliseconds(50)});
  std::vector<long long> waits;
  for (int i = 0; i < 6; ++i) {
    const auto step = patient.after(Reply::error(i % 2 ? "CLUSTERDOWN The cluster is down" : "TRYAGAIN"), a, map);
    REQUIRE(step.kind == Kind::retry_after);
    waits.push_back(step.wait.count());
  }
  CHECK(waits == std::vector<long long>{10, 20, 40, 50, 50, 50});
  CHECK(patient.after(Reply::error("READONLY You can't write against a read only replica."), a, map).kind ==
        Kind::refresh_and_send);
  CHECK(patient.after(Reply::error("TRYAGAIN"), a, map).kind == Kind::give_up);
}

TEST_CASE("cluster: multi-key commands over several slots are cut per slot and put back in the caller's order") {
  REQUIRE(hash_slot("foo") != hash_slot("bar"));
  const std::vector<std::string> mget = {"MGET", "foo", "bar", "{foo}:x"};
  const auto split = split_by_slot(views(mget));
  REQUIRE(split);
  CHECK(split->keys == 3);
  REQUIRE(split->parts.size() == 2);
  CHECK(split->parts[0].args == std::vector<std::string>{"MGET", "foo", "{foo}:x"});  // foo's slot, first seen first
  CHECK(split->parts[0].positions == std::vector<std::size_t>{0, 2});
  CHECK(split->parts[1].args == std::vector<std::string>{"MGET", "bar"});
  const auto values = merge_parts(*split, {Reply::array({Reply::string("1"), Reply::nil()}),
                                           Reply::array({Reply::string("2")})});
  CHECK(values == Reply::array({Reply::string("1"), Reply::string("2"), Reply::nil()}));

  const std::vector<std::string> mset = {"mset", "foo", "1", "bar", "2"};
  const auto pairs = split_by_slot(views(mset));
  REQUIRE(pairs);
  CHECK(pairs->parts[1].args == std::vector<std::string>{"mset", "bar", "2"});
  CHECK(merge_parts(*pairs, {Reply::status("OK"), Reply::status("OK")}) == Reply::status("OK"));
  CHECK(merge_parts(*pairs, {Reply::status("OK"), Reply::error("OOM no memory")}) == Reply::error("OOM no memory"));

  const std::vector<std::string> del = {"DEL", "foo", "bar"};
  CHECK(merge_parts(*split_by_slot(views(del)), {Reply::number(1), Reply::number(0)}) == Reply::number(1));

  // Not split: other commands, a key without its value, nothing at all.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"SUNION", "foo", "bar"}, {"MSET", "foo", "1", "bar"}, {"MGET"}, {"RENAME", "foo", "bar"}})
    CHECK_FALSE(split_by_slot(views(args)));
}

TEST_CASE("cluster: one SCAN cursor walks every master in turn, from 0 back to 0") {
  CHECK(parse_cluster_cursor("0")->master == 0);
  CHECK(parse_cluster_cursor("0")->cursor == "0");
  const auto middle = parse_cluster_cursor("2-17408");
  REQUIRE(middle);
  CHECK(middle->master == 2);
  CHECK(middle->cursor == "17408");
  for (const auto bad : {"", "17408", "-5", "2-", "x-5", "1x-5"}) CHECK_FALSE(parse_cluster_cursor(bad));

  CHECK(next_cluster_cursor(0, "96", 3) == "0-96");  // this master has more
  CHECK(next_cluster_cursor(0, "0", 3) == "1-0");    // this master is done: the next from its start
  CHECK(next_cluster_cursor(2, "0", 3) == "0");      // the last is done: the whole walk is
}
