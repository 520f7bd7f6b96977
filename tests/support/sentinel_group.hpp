#pragma once
// A Sentinel set-up on loopback, as production runs one: a master, a replica of it, and three
// redis-sentinel processes watching the master under one name, with short timers so a failover takes
// a second or two. Every process can be killed, stopped and restarted for real.
//
//   SentinelGroup group;                       // started: replica in sync, Sentinels agreeing (CKQUORUM)
//   group.master().kill9();                    // the replica is promoted
//   group.wait_master_is(group.replica().port());
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/local_server.hpp"
#include "tests/support/redis_server.hpp"

namespace routemq::test {

class SentinelServer {
 public:
  SentinelServer(std::string master_name, std::uint16_t master_port);
  std::uint16_t port() const { return server_.port(); }
  std::string id() const;  // its run id (sentinel myid), fixed so that peers can be told about it
  // Config lines written after the monitor line at each start (known-sentinel, known-replica).
  std::vector<std::string> extra_config;
  void start();
  void stop() { server_.stop(); }
  void kill9() { server_.kill9(); }
  std::string log_text() const { return server_.log_text(); }
  std::string command(const std::vector<std::string>& args) const { return resp_command(port(), args); }

 private:
  LocalServer server_;
  std::string master_name_;
  std::uint16_t master_port_;
};

class SentinelGroup {
 public:
  static constexpr const char* master_name = "mymaster";
  SentinelGroup();  // starts everything and waits until a failover could happen (throws otherwise)

  RedisServer& master() { return *servers_[0]; }   // the first master (the replica once it failed over)
  RedisServer& replica() { return *servers_[1]; }
  std::vector<SentinelServer>& sentinels() { return sentinels_; }
  // "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" for REDIS_SENTINELS.
  std::string sentinel_list() const;
  // The port the Sentinels name as master now (0 when they do not agree or cannot say).
  std::uint16_t master_port_now();
  // Waits (bounded) until the Sentinels name `port` as master.
  bool wait_master_is(std::uint16_t port, std::chrono::milliseconds deadline = std::chrono::seconds(20));

 private:
  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::vector<SentinelServer> sentinels_;
};

}  // namespace routemq::test
