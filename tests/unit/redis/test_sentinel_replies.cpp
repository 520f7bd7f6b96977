// What Sentinels and servers say about the master, read without I/O: every shape a reply can take,
// and the malformed ones a bad or hostile server could send; and how the locator counts failovers.
#include <catch2/catch.hpp>

#include "plugins/redis/sentinel/master_locator.hpp"
#include "plugins/redis/sentinel/sentinel_replies.hpp"

using namespace routemq::redis;

TEST_CASE("node addresses: host:port, [IPv6]:port, and what is not one") {
  CHECK(parse_node_address("10.0.0.5:26379") == NodeAddress{"10.0.0.5", 26379});
  CHECK(parse_node_address("sentinel-1:26379") == NodeAddress{"sentinel-1", 26379});
  CHECK(parse_node_address("[::1]:26379") == NodeAddress{"::1", 26379});
  for (const char* bad : {"", "host", "host:", ":26379", "host:0", "host:65536", "host:12x", "[::1]26379"}) {
    INFO(bad);
    CHECK_FALSE(parse_node_address(bad));
  }
  CHECK(NodeAddress{"h", 1}.text() == "h:1");
}

TEST_CASE("GET-MASTER-ADDR-BY-NAME: the address, or nothing for nil, errors and other shapes") {
  CHECK(master_address_from(Reply::array({Reply::string("127.0.0.1"), Reply::string("6380")})) ==
        NodeAddress{"127.0.0.1", 6380});
  CHECK_FALSE(master_address_from(Reply::nil()));  // a name the Sentinel does not watch
  CHECK_FALSE(master_address_from(Reply::error("ERR No such master with that name")));
  CHECK_FALSE(master_address_from(Reply::array({Reply::string("127.0.0.1")})));
  CHECK_FALSE(master_address_from(Reply::array({Reply::string("127.0.0.1"), Reply::string("port")})));
}

TEST_CASE("SENTINEL SENTINELS: each entry's ip and port, entries without them skipped") {
  const auto entry = [](const char* ip, const char* port) {
    return Reply::array({Reply::string("name"), Reply::string("id"), Reply::string("ip"), Reply::string(ip),
                         Reply::string("port"), Reply::string(port), Reply::string("flags"), Reply::string("sentinel")});
  };
  const auto reply = Reply::array({entry("10.0.0.7", "26379"), entry("10.0.0.8", "26380"),
                                   Reply::array({Reply::string("name"), Reply::string("x")}), entry("10.0.0.9", "bad")});
  CHECK(sentinel_addresses_from(reply) == std::vector<NodeAddress>{{"10.0.0.7", 26379}, {"10.0.0.8", 26380}});
  CHECK(sentinel_addresses_from(Reply::error("ERR")).empty());
}

TEST_CASE("SENTINEL REPLICAS: the replicas to read from, those flagged down or disconnected left out") {
  const auto entry = [](const char* port, const char* flags) {
    return Reply::array({Reply::string("name"), Reply::string("r"), Reply::string("ip"), Reply::string("10.0.0.8"),
                         Reply::string("port"), Reply::string(port), Reply::string("flags"), Reply::string(flags)});
  };
  const auto reply = Reply::array({entry("6380", "slave"), entry("6381", "s_down,slave"), entry("6382", "slave,o_down"),
                                   entry("6383", "slave,disconnected"), entry("6384", "slave")});
  CHECK(replica_addresses_from(reply) == std::vector<NodeAddress>{{"10.0.0.8", 6380}, {"10.0.0.8", 6384}});
  CHECK(replica_addresses_from(Reply::error("ERR unknown subcommand")).empty());
  // Hostile shapes: an entry that is no array, an odd field list, a port that is no port, no ip.
  const auto odd = Reply::array({Reply::string("ip"), Reply::string("10.0.0.9"), Reply::string("port")});
  const auto bad_port = Reply::array({Reply::string("ip"), Reply::string("10.0.0.9"), Reply::string("port"),
                                      Reply::string("99999999999999999999"), Reply::string("flags"), Reply::string("slave")});
  const auto no_ip = Reply::array({Reply::string("port"), Reply::string("6385")});
  const auto hostile = Reply::array({Reply::number(7), odd, bad_port, no_ip, Reply::array({}), entry("6386", "")});
  CHECK(replica_addresses_from(hostile) == std::vector<NodeAddress>{{"10.0.0.8", 6386}});
}

TEST_CASE("ROLE: master, slave, or nothing readable") {
  CHECK(role_from(Reply::array({Reply::string("master"), Reply::number(10), Reply::array({})})) == "master");
  CHECK(role_from(Reply::array({Reply::string("slave"), Reply::string("127.0.0.1"), Reply::number(6379)})) == "slave");
  CHECK(role_from(Reply::error("ERR unknown command")).empty());
  CHECK(role_from(Reply::array({})).empty());
}

TEST_CASE("+switch-master: the new address when the message is about our master") {
  CHECK(switched_master_from("mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster") == NodeAddress{"127.0.0.1", 6380});
  CHECK_FALSE(switched_master_from("other 127.0.0.1 6379 127.0.0.1 6380", "mymaster"));
  CHECK_FALSE(switched_master_from("mymaster 127.0.0.1 6379 127.0.0.1", "mymaster"));
  CHECK_FALSE(switched_master_from("mymaster 127.0.0.1 6379 127.0.0.1 6380 extra", "mymaster"));
  CHECK_FALSE(switched_master_from("", "mymaster"));
}

// The failover count follows the master the connections reach, not every name a Sentinel gives:
// a Sentinel that missed the last failover names the old master, the connections find it dead or
// demoted and come back, and that detour is no move.
TEST_CASE("Sentinel: a failover counts when the connections reach another master, never twice for one move") {
  asio::io_context io;
  auto locator = MasterLocator::create(io.get_executor(), SentinelSettings{{{"127.0.0.1", 1}}, "mymaster", {}});
  const auto lookup = locator->lookup();
  REQUIRE(lookup->reached);
  const std::pair<std::string, int> a{"10.0.0.1", 6379}, b{"10.0.0.2", 6379};
  lookup->reached(a);  // the first master: no move
  lookup->reached(a);  // its other connections, a reconnect
  CHECK(locator->failovers_followed() == 0);
  lookup->reached(b);
  lookup->reached(b);
  CHECK(locator->failovers_followed() == 1);
  lookup->reached(a);  // a real move back
  CHECK(locator->failovers_followed() == 2);
}
