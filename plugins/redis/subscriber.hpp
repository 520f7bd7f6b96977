#pragma once
// Pub/Sub on its own connection: SUBSCRIBE/PSUBSCRIBE are sent again after every reconnect, and pushed
// messages go to the handler registered for their channel or pattern. Runs on the manager's executor;
// its handlers hold it (shared), so it may go while the last of them finish.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/message_handler.hpp"

namespace routemq::redis {

class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(asio::any_io_executor executor, std::shared_ptr<ClientStats> stats);
  ~Subscriber();

  // Thread-safe. Connects once there is something to subscribe to.
  void start(const ConnectionSettings& settings);
  void stop();  // thread-safe; keeps the subscriptions for the next start()
  bool active() const;                              // connected and subscribed

  // Thread-safe. Several handlers may share a channel: each message goes to every one of them.
  Subscription subscribe(std::vector<std::string> channels, MessageHandler handler, bool pattern);
  void unsubscribe(const Subscription& subscription);           // that handler only
  void unsubscribe(const std::string& channel, bool pattern);  // every handler of the channel

 private:
  void connect_if_needed();
  void resubscribe_all();
  bool dispatch(const Reply& push);

  asio::any_io_executor executor_;
  std::shared_ptr<ClientStats> stats_;
  std::optional<ConnectionSettings> settings_;  // set while started; executor only
  std::shared_ptr<Connection> connection_;      // executor only
  using Handlers = std::map<std::uint64_t, MessageHandler>;  // by subscription id, in subscribing order
  std::map<std::string, Handlers>& table(bool pattern) { return pattern ? patterns_ : channels_; }
  void forget(const std::string& channel, bool pattern);  // no handler left: UNSUBSCRIBE
  static void deliver(const Handlers& handlers, const std::string& channel, const std::string& payload);

  std::map<std::string, Handlers> channels_;
  std::map<std::string, Handlers> patterns_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> active_{false};
  std::atomic<int> pending_confirmations_{0};
};

}  // namespace routemq::redis
