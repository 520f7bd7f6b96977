#pragma once
// Pub/Sub on its own connection: SUBSCRIBE/PSUBSCRIBE are sent again after every reconnect, and pushed
// messages go to the handler registered for their channel or pattern. Runs on the manager's io thread.
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

class Subscriber {
 public:
  Subscriber(asio::io_context& io, ClientStats& stats);
  ~Subscriber();

  // Thread-safe. Connects once there is something to subscribe to.
  void start(const ConnectionSettings& settings);
  void stop();  // thread-safe; keeps the subscriptions for the next start()
  bool active() const;                              // connected and subscribed

  void subscribe(const std::string& channel, MessageHandler handler, bool pattern);
  void unsubscribe(const std::string& channel, bool pattern);

 private:
  void connect_if_needed();
  void resubscribe_all();
  bool dispatch(const Reply& push);

  asio::io_context& io_;
  ClientStats& stats_;
  std::optional<ConnectionSettings> settings_;  // set while started; io thread only
  std::shared_ptr<Connection> connection_;      // io thread only
  std::map<std::string, MessageHandler> channels_;
  std::map<std::string, MessageHandler> patterns_;
  std::atomic<bool> active_{false};
  std::atomic<int> pending_confirmations_{0};
};

}  // namespace routemq::redis
