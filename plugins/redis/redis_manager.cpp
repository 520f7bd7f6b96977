#include "plugins/redis/redis_manager.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <spdlog/spdlog.h>

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/connection/connection_pool.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/subscriber.hpp"

namespace routemq::redis {
namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

ConnectionSettings settings_for(const RedisConfig& config) {
  ConnectionSettings settings;
  settings.host = config.host;
  settings.port = config.port;
  settings.db = config.db;
  settings.username = config.username;
  settings.password = config.password;
  settings.client_name = config.client_name;
  settings.connect_timeout = milliseconds(config.connect_timeout_s);
  settings.command_timeout = milliseconds(config.socket_timeout_s);
  settings.health_check_interval = milliseconds(config.health_check_interval_s);
  settings.reconnect_min = milliseconds(config.reconnect_min_s);
  settings.reconnect_max = milliseconds(config.reconnect_max_s);
  return settings;
}

}  // namespace

RedisManager::RedisManager(RedisConfig config)
    : config_(std::move(config)),
      keyring_(Keyring::parse(config_.encryption_key)),
      work_(asio::make_work_guard(io_)),
      thread_(start_io_thread()),
      subscriber_(std::make_unique<Subscriber>(io_, stats_)) {}

std::thread RedisManager::start_io_thread() {
  // libspdlog builds its registry lazily behind a static guard inside the (uninstrumented) library, so
  // ThreadSanitizer cannot see that guard order our thread's log calls after another thread's first
  // one. Creating the registry here, before the thread starts, orders it by the thread's creation.
  spdlog::default_logger_raw();
  return std::thread([this] { io_.run(); });
}

RedisManager::~RedisManager() {
  disconnect();
  work_.reset();
  // Let the stops run (they fail whatever is queued), then end the thread.
  asio::post(io_, [this] { io_.stop(); });
  if (thread_.joinable()) thread_.join();
}

void RedisManager::configure(RedisConfig config) {
  keyring_ = Keyring::parse(config.encryption_key);  // first: a bad key leaves the manager as it was
  config_ = std::move(config);
}

bool RedisManager::initialize() {
  disconnect();
  if (!config_.enabled) {
    spdlog::info("redis: disabled (ENABLE_REDIS=false): every call is a no-op");
    return false;
  }
  pools_.push_back(std::make_unique<ConnectionPool>(io_, settings_for(config_), config_.max_connections, stats_));
  pools_.back()->start();
  pool_.store(pools_.back().get(), std::memory_order_release);
  subscriber_->start(settings_for(config_));
  spdlog::info("redis: connecting to {}:{} db {} with {} connection(s)", config_.host, config_.port, config_.db,
               config_.max_connections);
  return true;
}

void RedisManager::disconnect() {
  if (auto* pool = pool_.exchange(nullptr, std::memory_order_acq_rel)) pool->stop();
  subscriber_->stop();
}

bool RedisManager::is_connected() const {
  auto* pool = pool_.load(std::memory_order_acquire);
  return pool && pool->any_ready();
}

bool RedisManager::wait_connected(std::chrono::milliseconds deadline) const {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (!is_connected()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string RedisManager::strip_prefix(std::string_view key) const {
  if (key.starts_with(config_.key_prefix)) key.remove_prefix(config_.key_prefix.size());
  return std::string(key);
}

std::optional<std::chrono::seconds> RedisManager::default_ttl() const {
  if (config_.default_ttl_s <= 0) return std::nullopt;
  return std::chrono::seconds(config_.default_ttl_s);
}

void RedisManager::ensure_not_io_thread() const {
  if (thread_.get_id() == std::this_thread::get_id())
    throw std::logic_error("RedisManager::run_sync called on the manager's own io thread: it would deadlock");
}

void RedisManager::count_read(bool hit) { (hit ? stats_.hits : stats_.misses).fetch_add(1, std::memory_order_relaxed); }

// The one path every command takes: refused at once while nothing is connected (the circuit is open),
// otherwise queued on a connection; the coroutine resumes on its own executor.
awaitable<Result> RedisManager::execute(std::string bytes, std::size_t replies) {
  auto* pool = pool_.load(std::memory_order_acquire);
  if (!pool || !pool->any_ready()) {
    stats_.unavailable.fetch_add(1, std::memory_order_relaxed);
    co_return Result::failed(Failure::unavailable,
                             config_.enabled ? "Redis is not connected" : "Redis is disabled (ENABLE_REDIS=false)");
  }
  const auto started = Clock::now();
  auto submit = [pool, bytes = std::move(bytes), replies](Completion done) mutable {
    pool->submit({std::move(bytes), replies, std::move(done)});
  };
  Result result = co_await await_completion(std::move(submit));
  if (result.ok()) {
    stats_.commands.fetch_add(1, std::memory_order_relaxed);
    stats_.latency.record(Clock::now() - started);
  }
  co_return result;
}

// Suspends the caller until the Completion handed to `submit` runs, then resumes it on its own
// executor (through deliver()). Not a coroutine: `submit` is moved into the operation.
template <class Submit>
awaitable<Result> RedisManager::await_completion(Submit submit) {
  auto initiation = [this, submit = std::move(submit)](auto handler) mutable {
    asio::any_io_executor executor = asio::prefer(asio::get_associated_executor(handler),
                                                  asio::execution::outstanding_work.tracked);
    auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
    submit(Completion([this, shared_handler, executor](Result result) {
      deliver(executor, [shared_handler, result = std::move(result)]() mutable { (*shared_handler)(std::move(result)); });
    }));
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result)>(std::move(initiation), asio::use_awaitable);
}

void RedisManager::deliver(asio::any_io_executor executor, std::function<void()> resume) {
  if (!io_.get_executor().running_in_this_thread()) {  // refused at once on the caller's thread
    asio::post(executor, std::move(resume));
    return;
  }
  if (deliveries_.empty()) asio::post(io_, [this] { flush_deliveries(); });  // after this burst of replies
  deliveries_.emplace_back(std::move(executor), std::move(resume));
}

void RedisManager::flush_deliveries() {
  auto batch = std::move(deliveries_);
  deliveries_.clear();
  for (std::size_t first = 0; first < batch.size();) {
    std::size_t end = first + 1;
    while (end < batch.size() && batch[end].first == batch[first].first) ++end;
    std::vector<std::function<void()>> run;
    run.reserve(end - first);
    for (std::size_t i = first; i < end; ++i) run.push_back(std::move(batch[i].second));
    asio::post(batch[first].first, [run = std::move(run)] {
      for (const auto& resume : run) resume();
    });
    first = end;
  }
}

// Not a coroutine itself: one frame less on every command's path.
awaitable<Result> RedisManager::run(std::vector<std::string> args) { return execute(encode_command(args), 1); }

awaitable<Result> RedisManager::command(std::vector<std::string> args) { return run(std::move(args)); }

awaitable<std::vector<Result>> RedisManager::pipeline(const Batch& batch) {
  std::vector<Result> results;
  if (batch.empty()) co_return results;
  std::string bytes;
  for (const auto& command : batch.commands()) append_command(bytes, command);
  auto result = co_await execute(std::move(bytes), batch.size());
  if (!result.ok()) co_return std::vector<Result>(batch.size(), result);
  if (batch.size() == 1) co_return std::vector<Result>{result};
  for (auto& reply : result.reply.elements) results.push_back(Result::success(std::move(reply)));
  co_return results;
}

awaitable<Result> RedisManager::transaction(const Batch& batch) {
  std::string bytes;
  append_command(bytes, {"MULTI"});
  for (const auto& command : batch.commands()) append_command(bytes, command);
  append_command(bytes, {"EXEC"});
  auto result = co_await execute(std::move(bytes), batch.size() + 2);
  if (!result.ok()) co_return result;
  // MULTI's +OK, one +QUEUED (or an error) per command, then EXEC's reply.
  for (std::size_t i = 1; i + 1 < result.reply.elements.size(); ++i)
    if (result.reply.elements[i].is_error())
      co_return Result::success(Reply::error("transaction aborted: " + result.reply.elements[i].text));
  co_return Result::success(std::move(result.reply.elements.back()));
}

awaitable<Result> RedisManager::eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args) {
  auto build = [&](const std::string& verb, const std::string& body) {
    std::vector<std::string> request{verb, body, std::to_string(keys.size())};
    for (const auto& k : keys) request.push_back(key(k));
    request.insert(request.end(), args.begin(), args.end());
    return request;
  };
  auto result = co_await run(build("EVALSHA", script.sha()));
  if (result.ok() && result.reply.is_error() && result.reply.text.starts_with("NOSCRIPT"))
    result = co_await run(build("EVAL", script.source()));  // loads it again, e.g. after a restart
  co_return result;
}

awaitable<bool> RedisManager::ping() {
  std::vector<std::string> request{"PING"};
  auto result = co_await run(std::move(request));
  co_return result.succeeded() && result.reply.text == "PONG";
}

// A blocking command holds its connection until it returns, so it gets a short-lived one of its own.
awaitable<std::optional<std::pair<std::string, std::string>>> RedisManager::blpop(std::vector<std::string> names,
                                                                                    std::chrono::seconds timeout) {
  if (!is_connected() || names.empty()) {
    stats_.unavailable.fetch_add(1, std::memory_order_relaxed);
    co_return std::nullopt;
  }
  std::vector<std::string> args{"BLPOP"};
  for (const auto& name : names) args.push_back(key(name));
  args.push_back(std::to_string(timeout.count()));
  auto settings = settings_for(config_);
  settings.reconnect = false;
  settings.command_timeout += std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  auto connection = Connection::create(io_, settings, stats_);
  auto submit = [this, connection, bytes = encode_command(args)](Completion done) mutable {
    asio::post(io_, [connection, bytes = std::move(bytes), done = std::move(done)]() mutable {
      connection->push_on_io_thread({std::move(bytes), 1, [connection, done = std::move(done)](Result result) {
                                       connection->stop();
                                       done(std::move(result));
                                     }});
    });
    connection->start();
  };
  Result result = co_await await_completion(std::move(submit));
  if (!result.succeeded() || !result.reply.is_array() || result.reply.elements.size() != 2) co_return std::nullopt;
  co_return std::pair{strip_prefix(result.reply.elements[0].text), result.reply.elements[1].text};
}

// ---- pub/sub

void RedisManager::subscribe(const std::string& channel, MessageHandler handler) {
  subscriber_->subscribe(channel, std::move(handler), false);
}

void RedisManager::psubscribe(const std::string& pattern, MessageHandler handler) {
  subscriber_->subscribe(pattern, std::move(handler), true);
}

void RedisManager::unsubscribe(const std::string& channel) { subscriber_->unsubscribe(channel, false); }
void RedisManager::punsubscribe(const std::string& pattern) { subscriber_->unsubscribe(pattern, true); }

bool RedisManager::subscriptions_active() const { return subscriber_->active(); }

// ---- stats

RedisStatsSnapshot RedisManager::stats() const {
  RedisStatsSnapshot snapshot;
  auto* pool = pool_.load(std::memory_order_acquire);
  snapshot.connections_ready = pool ? pool->ready_count() : 0;
  snapshot.state = !config_.enabled ? "disabled" : !pool ? "down" : snapshot.connections_ready > 0 ? "connected" : "connecting";
  snapshot.commands = stats_.commands.load();
  snapshot.errors = stats_.errors.load();
  snapshot.unavailable = stats_.unavailable.load();
  snapshot.timeouts = stats_.timeouts.load();
  snapshot.connection_failures = stats_.connection_failures.load();
  snapshot.reconnects = stats_.reconnects.load();
  snapshot.hits = stats_.hits.load();
  snapshot.misses = stats_.misses.load();
  const auto reads = snapshot.hits + snapshot.misses;
  snapshot.hit_rate = reads ? static_cast<double>(snapshot.hits) / static_cast<double>(reads) : 0;
  snapshot.p50_us = stats_.latency.quantile_us(0.5);
  snapshot.p99_us = stats_.latency.quantile_us(0.99);
  return snapshot;
}

RedisManager& redis_manager() {
  static RedisManager manager;
  return manager;
}

}  // namespace routemq::redis
