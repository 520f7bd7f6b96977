#pragma once
// A TCP proxy on a loopback port that can go silent: silence() keeps every connection open but stops
// forwarding bytes (a black-holed network path: no RST, no FIN, just nothing), speak() forwards again.
//
//   SilentProxy proxy(redis.port());
//   config.port = proxy.port();
//   proxy.silence();   // commands now get no reply at all
//   proxy.hold_replies();  // commands reach the server and run, their replies wait (as on a stalled path)
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace routemq::test {

class SilentProxy {
 public:
  explicit SilentProxy(std::uint16_t target_port);
  ~SilentProxy();
  SilentProxy(const SilentProxy&) = delete;
  SilentProxy& operator=(const SilentProxy&) = delete;

  std::uint16_t port() const { return port_; }
  void silence() { silent_ = true; }
  void speak() {
    silent_ = false;
    holding_replies_ = false;
  }
  void hold_replies() { holding_replies_ = true; }

 private:
  void accept_loop();
  void pump(int from, int to, bool toward_client);

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> silent_{false};
  std::atomic<bool> holding_replies_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace routemq::test
