#pragma once
// A stand-in Sentinel on a loopback port that names whatever master it is told to, stale or not:
// for the one case a real Sentinel cannot be made to show on demand (an answer naming a replica).
// Answers PING, SENTINEL GET-MASTER-ADDR-BY-NAME (any name) and SENTINEL SENTINELS (none); SUBSCRIBE
// is confirmed and never published to. Counts the questions it got.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace routemq::test {

class FakeSentinel {
 public:
  explicit FakeSentinel(std::uint16_t names_master_port);
  ~FakeSentinel();
  FakeSentinel(const FakeSentinel&) = delete;
  FakeSentinel& operator=(const FakeSentinel&) = delete;

  std::uint16_t port() const { return port_; }
  int questions() const { return questions_.load(); }

 private:
  void serve();
  std::string answer(std::string& pending);

  std::uint16_t master_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> questions_{0};
  std::thread server_;
};

}  // namespace routemq::test
