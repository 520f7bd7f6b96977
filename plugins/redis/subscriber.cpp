#include "plugins/redis/subscriber.hpp"

#include <spdlog/spdlog.h>

#include "plugins/redis/protocol/encoder.hpp"

namespace routemq::redis {

Subscriber::Subscriber(asio::any_io_executor executor, std::shared_ptr<ClientStats> stats)
    : executor_(std::move(executor)), stats_(std::move(stats)) {}

Subscriber::~Subscriber() {
  if (connection_) connection_->stop();
}

void Subscriber::start(const ConnectionSettings& settings) {
  asio::post(executor_, [this, self = shared_from_this(), settings] {
    if (connection_) connection_->stop();
    connection_.reset();
    settings_ = settings;
    connect_if_needed();
  });
}

void Subscriber::connect_if_needed() {
  if (connection_ || !settings_ || (channels_.empty() && patterns_.empty())) return;
  ConnectionEvents events;
  // The connection's last handlers may run after this subscriber is gone.
  std::weak_ptr<Subscriber> weak = weak_from_this();
  events.on_ready = [weak] {
    if (auto self = weak.lock()) self->resubscribe_all();
  };
  events.on_push = [weak](const Reply& reply) {
    auto self = weak.lock();
    return self && self->dispatch(reply);
  };
  events.on_down = [weak] {
    if (auto self = weak.lock()) self->active_ = false;
  };
  connection_ = Connection::create(executor_, *settings_, stats_, std::move(events));
  connection_->start();
}

void Subscriber::stop() {
  asio::post(executor_, [this, self = shared_from_this()] {
    settings_.reset();
    active_ = false;
    if (connection_) connection_->stop();
    connection_.reset();
  });
}

bool Subscriber::active() const { return active_.load(); }

Subscription Subscriber::subscribe(std::vector<std::string> channels, MessageHandler handler, bool pattern) {
  Subscription subscription{next_id_.fetch_add(1, std::memory_order_relaxed), std::move(channels), pattern};
  asio::post(executor_, [this, self = shared_from_this(), subscription, handler = std::move(handler)]() mutable {
    std::vector<std::string> new_channels;  // the server hears only of channels it does not send us yet
    for (const auto& channel : subscription.channels) {
      auto& handlers = table(subscription.pattern)[channel];
      if (handlers.empty()) new_channels.push_back(channel);
      handlers.emplace(subscription.id, handler);
    }
    connect_if_needed();
    if (new_channels.empty() || !connection_ || !connection_->ready()) return;  // sent on (re)connect
    active_ = false;
    pending_confirmations_ += static_cast<int>(new_channels.size());
    new_channels.insert(new_channels.begin(), subscription.pattern ? "PSUBSCRIBE" : "SUBSCRIBE");
    connection_->push_on_io_thread({encode_command(new_channels), 0, {}});
  });
  return subscription;
}

void Subscriber::unsubscribe(const Subscription& subscription) {
  asio::post(executor_, [this, self = shared_from_this(), subscription] {
    for (const auto& channel : subscription.channels) {
      auto& tables = table(subscription.pattern);
      auto found = tables.find(channel);
      if (found == tables.end()) continue;
      found->second.erase(subscription.id);
      if (found->second.empty()) forget(channel, subscription.pattern);
    }
  });
}

void Subscriber::unsubscribe(const std::string& channel, bool pattern) {
  asio::post(executor_, [this, self = shared_from_this(), channel, pattern] { forget(channel, pattern); });
}

void Subscriber::forget(const std::string& channel, bool pattern) {
  if (table(pattern).erase(channel) == 0) return;
  if (connection_ && connection_->ready())
    connection_->push_on_io_thread({encode_command({pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", channel}), 0, {}});
}

// Every handler of the channel, in the order they subscribed. A handler that subscribes or
// unsubscribes only posts that change: the handlers cannot change while they run.
void Subscriber::deliver(const Handlers& handlers, const std::string& channel, const std::string& payload) {
  for (const auto& [id, handler] : handlers) handler(channel, payload);
}

void Subscriber::resubscribe_all() {
  std::string bytes;
  for (const auto& entry : channels_) append_command(bytes, {"SUBSCRIBE", entry.first});
  for (const auto& entry : patterns_) append_command(bytes, {"PSUBSCRIBE", entry.first});
  const auto count = static_cast<int>(channels_.size() + patterns_.size());
  pending_confirmations_ = count;
  active_ = count == 0;
  if (count == 0) return;
  connection_->push_on_io_thread({std::move(bytes), 0, {}});
  spdlog::info("redis: subscribing to {} channel(s)/pattern(s)", count);
}

// ["message", channel, payload], ["pmessage", pattern, channel, payload], or a (p)subscribe confirmation.
bool Subscriber::dispatch(const Reply& push) {
  if (!push.is_array() || push.elements.empty() || push.elements[0].type != Reply::Type::string) return false;
  const auto& kind = push.elements[0].text;
  const auto& parts = push.elements;
  if (kind == "message" && parts.size() == 3) {
    if (auto it = channels_.find(parts[1].text); it != channels_.end()) deliver(it->second, parts[1].text, parts[2].text);
    return true;
  }
  if (kind == "pmessage" && parts.size() == 4) {
    if (auto it = patterns_.find(parts[1].text); it != patterns_.end()) deliver(it->second, parts[2].text, parts[3].text);
    return true;
  }
  if (kind == "subscribe" || kind == "psubscribe") {
    if (--pending_confirmations_ <= 0) active_ = true;
    return true;
  }
  return kind == "unsubscribe" || kind == "punsubscribe";
}

}  // namespace routemq::redis
