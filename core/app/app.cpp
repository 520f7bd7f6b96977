#include "core/app/app.hpp"
#include "core/app/compiled_route.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/http/http_server.hpp"
#include "core/mqtt/mqtt_client.hpp"
#include "core/routing/shared_subscription.hpp"

namespace routemq {

struct App::GroupDefinition {
  std::string prefix;  // the full topic prefix, enclosing groups included
  std::optional<std::size_t> parent;
  std::vector<Middleware> middleware;
};

struct App::RouteDefinition {
  std::string pattern;  // full pattern, without any $share/<group>/ prefix
  std::optional<std::string> share_group;
  std::string name;
  int qos = 0;
  bool shared = false;
  std::optional<std::string> ordered_by = "{topic}";  // nullopt: unordered
  std::vector<Middleware> middleware;
  Handler handler;
  std::optional<std::size_t> group;
};

struct App::StopSignal {
  std::mutex mutex;
  std::condition_variable requested_changed;
  bool requested = false;
};

namespace {

// The worker threads still inside io_context::run(): it returns when no work is left.
struct WorkersRunning {
  explicit WorkersRunning(int workers) : count(workers), left(workers) {}
  void one_returned() {
    std::lock_guard lock(mutex);
    if (--left == 0) changed.notify_all();
  }
  bool all_returned_within(std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, deadline, [this] { return left == 0; });
  }
  const int count;
  int left;
  std::mutex mutex;
  std::condition_variable changed;
};

// Serving as it should: ok, or switched off on purpose.
bool is_ready(const PluginHealth& health) {
  return health.state == PluginHealth::State::ok || health.state == PluginHealth::State::disabled;
}

int checked_qos(int qos, std::string_view where) {
  if (qos < 0 || qos > 2) throw std::invalid_argument(fmt::format("{}: qos must be 0, 1 or 2, got {}", where, qos));
  return qos;
}

// The route's order key (nullopt: unordered), checked against its pattern's parameters. A key from
// YAML fails as a ConfigError at routes.<name>.ordered; one from code as std::invalid_argument.
std::optional<OrderKey> compile_order_key(const std::optional<std::string>& ordered_by, const TopicPattern& pattern,
                                          const std::string& route_name, const RouteConfig* yaml) {
  if (!ordered_by) return std::nullopt;
  try {
    return OrderKey::parse(*ordered_by, pattern.param_names());
  } catch (const std::invalid_argument& e) {
    if (yaml && yaml->ordered) {
      const auto where = yaml->node.child("ordered").where();
      throw ConfigError(fmt::format("{}: {}", where, e.what()));
    }
    throw std::invalid_argument(fmt::format("route '{}': {}", route_name, e.what()));
  }
}

std::string join_topic(std::string_view prefix, std::string_view rest) {
  if (prefix.empty()) return std::string(rest);
  return fmt::format("{}/{}", prefix, rest);
}

}  // namespace

// ---- RouteBuilder and Group

RouteBuilder& RouteBuilder::name(std::string name) {
  app_->definition(definition_).name = std::move(name);
  return *this;
}

RouteBuilder& RouteBuilder::qos(int qos) {
  auto& route = app_->definition(definition_);
  route.qos = checked_qos(qos, fmt::format("route '{}'", route.pattern));
  return *this;
}

RouteBuilder& RouteBuilder::shared(bool on) {
  app_->definition(definition_).shared = on;
  return *this;
}

RouteBuilder& RouteBuilder::ordered(std::string key) {
  app_->definition(definition_).ordered_by = std::move(key);
  return *this;
}

RouteBuilder& RouteBuilder::unordered() {
  app_->definition(definition_).ordered_by.reset();
  return *this;
}

RouteBuilder& RouteBuilder::use(Middleware middleware) {
  app_->definition(definition_).middleware.push_back(std::move(middleware));
  return *this;
}

Group& Group::use(Middleware middleware) {
  app_->groups_[definition_].middleware.push_back(std::move(middleware));
  return *this;
}

Group Group::group(std::string prefix) {
  app_->groups_.push_back({join_topic(app_->groups_[definition_].prefix, prefix), definition_, {}});
  return Group(app_->groups_.size() - 1, *app_);
}

RouteBuilder Group::add_route(std::string pattern, Handler handler) {
  return app_->add_route(std::move(pattern), std::move(handler), definition_);
}

// ---- App

App::App(AppConfig config, Environment environment, std::vector<std::shared_ptr<Plugin>> plugins)
    : io_(std::make_unique<asio::io_context>(std::max(config.app.workers, 1))),
      config_(std::move(config)),
      environment_(std::move(environment)),
      plugins_(std::move(plugins)),
      in_flight_(static_cast<std::size_t>(config_.app.max_in_flight),
                 static_cast<std::size_t>(config_.app.max_in_flight_bytes)),
      stop_signal_(std::make_unique<StopSignal>()) {
  // libspdlog builds its registry lazily behind a static guard inside the (uninstrumented) library, so
  // ThreadSanitizer cannot see that guard order the first log calls of the threads run() starts (and of
  // other apps' threads in the same process). Created here, before any of them, on the building thread.
  spdlog::default_logger_raw();
  PluginContext context{services_, middleware_registry_, *io_,
                        [this](std::function<metrics::Families()> source) { add_metrics_source(std::move(source)); }};
  for (auto& plugin : plugins_) {
    auto section = config_.plugins.find(plugin->name());
    // An absent section is still located (file) and named (path), for the plugin's error messages.
    ConfigNode node = section != config_.plugins.end()
                          ? section->second
                          : ConfigNode(YAML::Node(YAML::NodeType::Undefined), plugin->name(), Location{config_.file});
    plugin->configure(node, environment_, config_.effective);
    plugin->provide(context);
  }
}

App::~App() {
  stop();
  stop_in_process();  // run() has stopped serving before it returns; an in-process app may not have
}

App::RouteDefinition& App::definition(std::size_t index) {
  if (built_) throw std::logic_error("routes cannot change after the app is built");
  return definitions_[index];
}

RouteBuilder App::add_route(std::string pattern, Handler handler, std::optional<std::size_t> group) {
  if (built_) throw std::logic_error("routes cannot be added after the app is built");
  RouteDefinition route;
  route.handler = std::move(handler);
  route.group = group;
  if (auto shared = split_shared(pattern)) {
    route.shared = true;
    route.share_group = shared->group;
    pattern = shared->filter;
  }
  route.pattern = group ? join_topic(groups_[*group].prefix, pattern) : pattern;
  route.name = route.pattern;
  definitions_.push_back(std::move(route));
  return RouteBuilder(definitions_.size() - 1, *this);
}

Group App::group(std::string prefix) {
  groups_.push_back({std::move(prefix), std::nullopt, {}});
  return Group(groups_.size() - 1, *this);
}

App& App::use(Middleware middleware) {
  global_middleware_.push_back(std::move(middleware));
  return *this;
}

// Global (code, YAML), then groups from the outermost, then the route's own (code, YAML).
std::vector<Middleware> App::middleware_for(const RouteDefinition& route) {
  std::vector<Middleware> chain = global_middleware_;
  for (const auto& spec : config_.global_middleware)
    chain.push_back(middleware_registry_.create(spec, environment_, services_, route.name, config_.mqtt.client_id));
  std::vector<const GroupDefinition*> enclosing;
  for (auto group = route.group; group; group = groups_[*group].parent) enclosing.push_back(&groups_[*group]);
  for (auto it = enclosing.rbegin(); it != enclosing.rend(); ++it)
    chain.insert(chain.end(), (*it)->middleware.begin(), (*it)->middleware.end());
  chain.insert(chain.end(), route.middleware.begin(), route.middleware.end());
  if (auto yaml = config_.routes.find(route.name); yaml != config_.routes.end())
    for (const auto& spec : yaml->second.middleware)
      chain.push_back(middleware_registry_.create(spec, environment_, services_, route.name, config_.mqtt.client_id));
  return chain;
}

void App::build() {
  if (built_) return;
  std::map<std::string, const RouteDefinition*> by_name;
  for (const auto& route : definitions_) {
    auto [it, inserted] = by_name.emplace(route.name, &route);
    if (!inserted)
      throw std::invalid_argument(fmt::format("two routes are named '{}': '{}' and '{}'; names must be unique",
                                              route.name, it->second->pattern, route.pattern));
  }
  for (const auto& [name, yaml] : config_.routes) {
    if (by_name.count(name)) continue;
    std::string known;
    for (const auto& [known_name, unused] : by_name) known += (known.empty() ? "" : ", ") + known_name;
    const auto where = yaml.node.location();
    throw ConfigError(fmt::format("{}:{}:{}: routes.{}: no route is named '{}' (routes: {})", where.file,
                                  where.line, where.column, name, name, known));
  }
  for (auto& route : definitions_) {
    auto yaml = config_.routes.find(route.name);
    if (yaml != config_.routes.end()) {
      if (!yaml->second.enabled) continue;
      if (yaml->second.qos) route.qos = checked_qos(*yaml->second.qos, "routes." + route.name + ".qos");
      if (yaml->second.shared) route.shared = *yaml->second.shared;
      if (const auto& ordered = yaml->second.ordered) {
        if (*ordered == "false") route.ordered_by.reset();
        else route.ordered_by = *ordered == "true" ? "{topic}" : *ordered;
      }
    }
    const RouteId id = router_.add(route.pattern);
    const auto order_key = compile_order_key(route.ordered_by, router_.pattern(id), route.name,
                                             yaml != config_.routes.end() ? &yaml->second : nullptr);
    const std::string filter = router_.pattern(id).filter();
    RouteInfo info{route.name, route.pattern,
                   route.shared ? shared_filter(route.share_group.value_or(config_.mqtt.group_name), filter) : filter,
                   route.qos, route.shared, route.ordered_by.value_or(""), {}};
    Chain chain(middleware_for(route), route.handler);
    info.middleware = chain.names();
    compiled_.push_back(std::make_unique<CompiledRoute>(std::move(info), std::move(chain),
                                                        static_cast<int>(compiled_.size() + 1), order_key));
  }
  built_ = true;
}

std::vector<RouteInfo> App::routes() const {
  std::vector<RouteInfo> infos;
  for (const auto& route : compiled_) infos.push_back(route->info);
  return infos;
}

const RouteStats* App::route_stats(std::string_view route_name) const {
  for (const auto& route : compiled_)
    if (route->info.name == route_name) return &route->stats;
  return nullptr;
}

std::vector<std::pair<std::string, PluginHealth>> App::plugin_health() const {
  std::vector<std::pair<std::string, PluginHealth>> health;
  for (const auto& plugin : plugins_) health.emplace_back(plugin->name(), plugin->health());
  return health;
}

bool App::mqtt_connected() const {
  const auto* mqtt = live_mqtt_.load(std::memory_order_acquire);
  return mqtt && mqtt->connected();
}

bool App::mqtt_subscribed() const {
  const auto* mqtt = live_mqtt_.load(std::memory_order_acquire);
  return mqtt && mqtt->subscribed();
}
const std::string& App::client_id() const { return config_.mqtt.client_id; }

// ---- message path

// On the MQTT client's thread, in the order messages arrive: take room, route, and admit to the
// route's ordering lane; then hand over to the workers. Ordering is decided here because it is the one
// place that sees arrival order: two workers would race. The acknowledgement goes when the message is
// done with, whichever way that is (unmatched, a duplicate copy, handled, rejected, failed), except
// while shutting down: a message not handled is not acknowledged, so the broker delivers it again.
void App::on_message(InboundMessage message, Acknowledgement acknowledgement, Admission admission) {
  ++stats_.received;
  const auto bytes = message.payload.size();
  const bool admitted_now = admission == Admission::wait ? in_flight_.acquire(bytes) : in_flight_.admit(bytes);
  if (!admitted_now) {
    acknowledgement.withhold();
    return;
  }
  AdmittedMessage admitted{std::move(message), {}, std::move(acknowledgement), InFlightSlot(in_flight_, bytes),
                           std::chrono::steady_clock::now()};
  auto match = router_.match(admitted.message.topic);
  if (!match) {
    ++stats_.unmatched;
    spdlog::debug("no route for topic '{}'", admitted.message.topic);
    return;
  }
  auto& route = *compiled_[match->route];
  // A broker may send one copy per overlapping subscription: handle only the copy for the winning route's.
  const auto& ids = admitted.message.subscription_ids;
  if (!ids.empty() && std::find(ids.begin(), ids.end(), route.subscription_id) == ids.end()) {
    ++stats_.duplicate_copies;
    return;
  }
  ++route.stats.received;
  admitted.params = std::move(match->params);
  // co_spawn from a foreign thread (Paho's) is not safe in Boost 1.74: post first, spawn on the
  // executor. The native client calls from a thread of the io_context itself, where co_spawn is safe
  // (and starts its coroutine with a post of its own): one post a message fewer.
  const bool on_io_thread = admission == Admission::at_once;
  if (!route.order_key) {
    if (on_io_thread) return asio::co_spawn(*io_, handle(route, std::move(admitted)), asio::detached);
    asio::post(*io_, [this, &route, admitted = std::move(admitted)]() mutable {
      asio::co_spawn(*io_, handle(route, std::move(admitted)), asio::detached);
    });
    return;
  }
  auto key = route.order_key->render(admitted.message.topic, admitted.params);
  if (!route.lanes.admit(key, admitted)) return;  // queued behind the key's running message
  if (on_io_thread)
    return asio::co_spawn(*io_, handle_in_order(route, std::move(key), std::move(admitted)), asio::detached);
  asio::post(*io_, [this, &route, key = std::move(key), admitted = std::move(admitted)]() mutable {
    asio::co_spawn(*io_, handle_in_order(route, std::move(key), std::move(admitted)), asio::detached);
  });
}

// The key's messages one after another, the ones queued meanwhile included, then the lane is idle.
awaitable<void> App::handle_in_order(CompiledRoute& route, std::string key, AdmittedMessage first) {
  for (std::optional<AdmittedMessage> next(std::move(first)); next; next = route.lanes.next(key))
    co_await handle(route, std::move(*next));
}

awaitable<void> App::handle(CompiledRoute& route, AdmittedMessage admitted) {
  const auto started = admitted.arrived;
  auto publish = [this](OutboundMessage out) { this->publish(std::move(out)); };
  Context context(std::move(admitted.message), std::move(admitted.params), route.info.name, publish, services_,
                  static_cast<std::size_t>(config_.app.max_json_depth));
  try {
    co_await route.chain.run(context);
    ++route.stats.handled;
    if (context.replayed()) ++route.stats.replayed;
  } catch (const InvalidPayload& e) {
    ++route.stats.rejected;
    spdlog::warn("route '{}': rejected a message on '{}': {}", route.info.name, context.topic(), e.what());
  } catch (const std::exception& e) {
    ++route.stats.failed;
    spdlog::error("route '{}': handler failed on '{}': {}", route.info.name, context.topic(), e.what());
  }
  route.stats.latency.record(std::chrono::steady_clock::now() - started);
}

void App::publish(OutboundMessage message) { outbox_(std::move(message)); }

bool App::plugins_ready() const {
  for (const auto& plugin : plugins_)
    if (!is_ready(plugin->health())) return false;
  return true;
}

// A kept session's backlog arrives the moment MQTT connects: handled before a plugin's database is
// connected, every message of it would be served degraded (acknowledged, nothing stored). So MQTT
// starts once every plugin is ok (or disabled), or after `deadline` when one is not (served degraded
// then, and said so).
void App::wait_for_plugins(std::chrono::milliseconds deadline) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (!plugins_ready()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      for (const auto& [name, health] : plugin_health())
        if (!is_ready(health))
          spdlog::warn("plugin '{}' is not ready ({}); taking messages anyway, served degraded until it recovers",
                       name, health.detail);
      return;
    }
    std::unique_lock lock(stop_signal_->mutex);
    if (stop_signal_->requested_changed.wait_for(lock, std::chrono::milliseconds(10),
                                                 [this] { return stop_signal_->requested; }))
      return;
  }
}

// ---- lifecycle

void App::stop() {
  {
    std::lock_guard lock(stop_signal_->mutex);
    stop_signal_->requested = true;
  }
  stop_signal_->requested_changed.notify_all();
}

void App::wait_for_stop_request() {
  std::unique_lock lock(stop_signal_->mutex);
  stop_signal_->requested_changed.wait(lock, [this] { return stop_signal_->requested; });
}

struct App::Serving {
  Serving(asio::io_context& io, int workers) : work(asio::make_work_guard(io)), running(workers) {}
  asio::executor_work_guard<asio::io_context::executor_type> work;
  WorkersRunning running;
  std::vector<std::thread> workers;
};

void App::start_serving(std::function<void(OutboundMessage)> outbox) {
  if (serving_ || in_flight_.closed()) throw std::logic_error("an app serves once");
  build();
  outbox_ = std::move(outbox);
  for (auto& plugin : plugins_) plugin->start();
  serving_ = std::make_unique<Serving>(*io_, std::max(config_.app.workers, 1));
  for (int i = 0; i < serving_->running.count; ++i)
    serving_->workers.emplace_back([this] {
      io_->run();
      serving_->running.one_returned();
    });
}

void App::drain() {
  const auto timeout = std::chrono::duration<double>(config_.app.shutdown_timeout_s);
  if (!in_flight_.wait_idle(std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout)))
    spdlog::warn("shutdown: {} handler(s) still running after {:.1f}s; abandoning them", in_flight_.in_flight(),
                 timeout.count());
  else
    spdlog::info("shutdown: all in-flight handlers finished");
  in_flight_.close();
}

void App::finish_serving() {
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) (*it)->stop();
  // What the stops queued (a plugin failing its pending work, handlers abandoned by drain() resuming
  // with that failure, sockets closing) runs before the io_context stops. A timer someone left behind
  // would keep it running for ever, so the wait is bounded.
  serving_->work.reset();
  if (!serving_->running.all_returned_within(std::chrono::seconds(2)))
    spdlog::warn("shutdown: work still queued on the app's io_context after 2 s; dropping it");
  io_->stop();
  for (auto& worker : serving_->workers) worker.join();
  serving_.reset();
  spdlog::info("stopped");
}

int App::run() {
  build();
  std::vector<Subscription> subscriptions;
  for (const auto& route : compiled_) subscriptions.push_back({route->info.subscription, route->info.qos});
  // Before anything starts: a port already taken ends run() with a clear error, nothing to undo.
  std::unique_ptr<http::Server> operations;
  if (config_.metrics.enabled) {
    operations = std::make_unique<http::Server>(*io_, config_.metrics.host, static_cast<std::uint16_t>(config_.metrics.port),
                                                [this](const http::Request& request) { return handle_operations(request); });
    operations_port_ = operations->port();
    spdlog::info("operations endpoint: http://{}:{}/metrics, /health, /ready", config_.metrics.host, operations->port());
  }
  start_serving([this](OutboundMessage message) {
    if (auto* mqtt = live_mqtt_.load(std::memory_order_acquire)) mqtt->publish(std::move(message));
  });
  asio::signal_set signals(*io_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("received signal {}: shutting down", signal);
    stop();
  });

  const auto admission = config_.mqtt.client == "native" ? Admission::at_once : Admission::wait;
  mqtt_ = make_mqtt_client(config_, *io_, std::move(subscriptions),
                           {[this, admission](InboundMessage message, Acknowledgement acknowledgement) {
                             on_message(std::move(message), std::move(acknowledgement), admission);
                           }});
  spdlog::info("{}: {} route(s), client id '{}', broker {}", config_.app.name, compiled_.size(),
               config_.mqtt.client_id, broker_uri(config_.mqtt));
  live_mqtt_.store(mqtt_.get(), std::memory_order_release);
  wait_for_plugins(std::chrono::seconds(5));
  mqtt_->start();

  wait_for_stop_request();

  // Stop taking messages, let the handlers in flight finish, then leave. A kept session (clean_start
  // false) keeps its subscriptions instead: what is published while the service is down waits at the
  // broker for its next start, and what still arrives now is handled until nothing is in flight.
  if (config_.mqtt.clean_start) mqtt_->unsubscribe_all(std::chrono::seconds(2));
  drain();
  mqtt_->stop(std::chrono::seconds(2));
  if (operations) operations->stop();
  signals.cancel();
  finish_serving();
  return 0;
}

// ---- in process

void App::start_in_process(std::function<void(OutboundMessage)> outbox) { start_serving(std::move(outbox)); }

void App::deliver(InboundMessage message) {
  if (!serving_) throw std::logic_error("deliver() needs start_in_process() first");
  on_message(std::move(message), Acknowledgement{}, Admission::wait);
}

bool App::wait_idle(std::chrono::milliseconds deadline) { return in_flight_.wait_idle(deadline); }

void App::stop_in_process() {
  if (!serving_) return;
  drain();
  finish_serving();
}

}  // namespace routemq
