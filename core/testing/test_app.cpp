#include "core/testing/test_app.hpp"

#include <set>
#include <thread>

#include <spdlog/spdlog.h>

namespace routemq::testing {

// Each route's counters: what one delivery changed says which route took it and how it ended (no
// route's count moved: unmatched).
struct TestApp::Counts {
  struct Route {
    std::string name;
    std::uint64_t received, rejected, failed, replayed;
  };
  std::vector<Route> routes;
};

InboundMessage as_received(std::string topic, std::string payload, const PublishOptions& options) {
  InboundMessage message;
  message.topic = std::move(topic);
  message.payload = std::move(payload);
  message.qos = options.qos;
  message.retained = options.retain;
  message.response_topic = options.response_topic;
  message.correlation_data = options.correlation_data;
  message.user_properties = options.user_properties;
  return message;
}

TestApp::TestApp(TestAppOptions options) : options_(std::move(options)) {
  const Environment environment(options_.environment);
  auto plugins = options_.plugins ? options_.plugins() : std::vector<std::shared_ptr<Plugin>>{};
  std::set<std::string> plugin_sections;
  for (const auto& plugin : plugins) plugin_sections.insert(plugin->name());
  auto config = options_.config_file.empty()
                    ? load_app_config_text(options_.yaml, "test app config", environment, plugin_sections)
                    : load_app_config(options_.config_file, environment, plugin_sections);
  app_ = std::make_unique<App>(std::move(config), environment, std::move(plugins));
  if (options_.routes) options_.routes(*app_);
  app_->start_in_process([this](OutboundMessage message) {
    std::lock_guard lock(published_mutex_);
    published_.push_back(std::move(message));
  });
  if (options_.ready_within.count() > 0 && !wait_ready(options_.ready_within))
    for (const auto& [name, health] : app_->plugin_health())  // the test runs on; say why it may see defaults
      if (health.state == PluginHealth::State::degraded || health.state == PluginHealth::State::down)
        spdlog::warn("test app: plugin '{}' not ready after {} ms: {}", name, options_.ready_within.count(), health.detail);
}

// The app drains and stops first: its handlers may still publish into published_.
TestApp::~TestApp() { app_.reset(); }

Delivery TestApp::deliver(std::string topic, std::string payload, PublishOptions options) {
  return deliver(as_received(std::move(topic), std::move(payload), options));
}

Delivery TestApp::deliver(InboundMessage message) {
  std::lock_guard one_at_a_time(delivering_);
  if (!wait_idle()) return {Outcome::still_running, {}, {}};  // an earlier send() is still being handled
  const auto before = counts();
  const auto first_new = published_count();
  app_->deliver(std::move(message));
  const bool done = wait_idle();
  const auto after = counts();

  Delivery delivery;
  {
    std::lock_guard lock(published_mutex_);
    delivery.published.assign(published_.begin() + static_cast<std::ptrdiff_t>(first_new), published_.end());
  }
  for (std::size_t i = 0; i < after.routes.size(); ++i) {
    const auto& now = after.routes[i];
    const auto& then = before.routes[i];
    if (now.received == then.received) continue;
    delivery.route = now.name;
    if (!done) delivery.outcome = Outcome::still_running;
    else if (now.rejected != then.rejected) delivery.outcome = Outcome::rejected;
    else if (now.failed != then.failed) delivery.outcome = Outcome::failed;
    else if (now.replayed != then.replayed) delivery.outcome = Outcome::replayed;
    else delivery.outcome = Outcome::handled;
    return delivery;
  }
  delivery.outcome = Outcome::unmatched;
  return delivery;
}

void TestApp::send(InboundMessage message) { app_->deliver(std::move(message)); }

bool TestApp::wait_idle() { return wait_idle(options_.handled_within); }

bool TestApp::wait_idle(std::chrono::milliseconds deadline) { return app_->wait_idle(deadline); }

std::size_t TestApp::published_count() const {
  std::lock_guard lock(published_mutex_);
  return published_.size();
}

std::vector<OutboundMessage> TestApp::published() const {
  std::lock_guard lock(published_mutex_);
  return published_;
}

bool TestApp::wait_ready(std::chrono::milliseconds deadline) {
  // Plugins say how they are, not when that changes: look again every few milliseconds, up to the deadline.
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!app_->plugins_ready()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TestApp::Counts TestApp::counts() const {
  Counts counts;
  for (const auto& route : app_->routes()) {
    const auto* stats = app_->route_stats(route.name);
    counts.routes.push_back(
        {route.name, stats->received.load(), stats->rejected.load(), stats->failed.load(), stats->replayed.load()});
  }
  return counts;
}

}  // namespace routemq::testing
