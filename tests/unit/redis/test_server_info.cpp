// ServerView's figures from INFO text, without a server: one server's as it says them, a cluster's
// as the sum of its masters'.
#include <catch2/catch.hpp>

#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/server_info.hpp"

using namespace routemq::redis;

namespace {

std::string info_text(long long used_memory, long long clients, long long hits, long long misses, long long keys) {
  return "# Memory\r\nused_memory:" + std::to_string(used_memory) + "\r\nused_memory_human:" +
         std::to_string(used_memory / 1024) + "K\r\nmem_fragmentation_ratio:1.5" + std::to_string(keys) +
         "\r\nmaxmemory_policy:noeviction\r\n\r\n# Clients\r\nconnected_clients:" + std::to_string(clients) +
         "\r\n\r\n# Stats\r\ntotal_commands_processed:100\r\nkeyspace_hits:" + std::to_string(hits) +
         "\r\nkeyspace_misses:" + std::to_string(misses) + "\r\n\r\n# Keyspace\r\ndb0:keys=" + std::to_string(keys) +
         ",expires=0,avg_ttl=0\r\n";
}

}  // namespace

TEST_CASE("server info: one server's INFO read as it says it") {
  ServerView view;
  add_server(view, info_text(2048, 3, 30, 10, 7), 7);
  derive_totals(view);
  CHECK(view.servers == 1);
  CHECK(view.memory.at("used_memory") == "2048");
  CHECK(view.memory.at("maxmemory_policy") == "noeviction");
  CHECK(view.connected_clients == 3);
  CHECK(view.commands_processed == 100);
  CHECK(view.server_hit_rate == Approx(0.75));
  CHECK(view.total_keys == 7);
  CHECK(view.dbsize == 7);
}

TEST_CASE("server info: a cluster's masters summed, fields that are no counts kept from the first") {
  ServerView view;
  add_server(view, info_text(2048, 3, 30, 10, 7), 7);
  add_server(view, info_text(4096, 2, 0, 40, 5), 5);
  add_server(view, info_text(1024, 1, 10, 0, 0), 0);
  derive_totals(view);
  CHECK(view.servers == 3);
  CHECK(view.memory.at("used_memory") == "7168");
  CHECK(view.memory.at("used_memory_human") == "2K");          // not a number: the first master's
  CHECK(view.memory.at("mem_fragmentation_ratio") == "1.57");  // a ratio is never summed
  CHECK(view.connected_clients == 6);
  CHECK(view.commands_processed == 300);
  CHECK(view.server_hit_rate == Approx(40.0 / 90.0));  // over the summed hits and misses
  CHECK(view.total_keys == 12);
  CHECK(view.dbsize == 12);
}

TEST_CASE("server info: lines without a colon, an empty reply and a negative count are read safely") {
  ServerView view;
  add_server(view, "", 0);
  add_server(view, "garbage\r\n# Stats\r\nnot a field\r\nkeyspace_hits:-1", 0);
  derive_totals(view);
  CHECK(view.servers == 2);
  CHECK(view.server_stats.at("keyspace_hits") == "-1");
  CHECK(view.server_hit_rate == 0);
}
