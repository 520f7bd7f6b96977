#include "plugins/redis/engine.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <spdlog/spdlog.h>

#include "plugins/redis/connection/command_sink.hpp"
#include "plugins/redis/connection/connection_pool.hpp"
#include "plugins/redis/sentinel/master_locator.hpp"
#include "plugins/redis/subscriber.hpp"

namespace routemq::redis {

// ---- the engine: a strand (on its own io thread or the caller's io_context) and its connections,
// shared by a manager and its views

Engine::Engine(RedisConfig settings) : Engine(std::move(settings), std::make_unique<asio::io_context>(), nullptr) {
  // libspdlog builds its registry lazily behind a static guard inside the (uninstrumented) library, so
  // ThreadSanitizer cannot see that guard order our thread's log calls after another thread's first
  // one. Creating the registry here, before the thread starts, orders it by the thread's creation.
  spdlog::default_logger_raw();
  work.emplace(asio::make_work_guard(io));
  thread = std::thread([this] { io.run(); });
}

Engine::Engine(RedisConfig settings, asio::io_context& caller_io) : Engine(std::move(settings), nullptr, &caller_io) {}

Engine::Engine(RedisConfig settings, std::unique_ptr<asio::io_context> owned, asio::io_context* caller_io)
    : own_io(std::move(owned)),
      io(caller_io ? *caller_io : *own_io),
      strand(asio::make_strand(io)),
      subscriber(std::make_shared<Subscriber>(strand, shared_stats)) {
  settings_versions.push_back(std::make_unique<const RedisConfig>(std::move(settings)));
  in_effect.store(settings_versions.back().get(), std::memory_order_release);
}

void Engine::set_next_settings(RedisConfig next) {
  std::lock_guard lock(settings_mutex);
  next_settings = std::move(next);
  ++settings_generation;  // the next initialize() starts again with these
}

bool Engine::put_next_settings_in_effect() {
  {
    std::lock_guard lock(settings_mutex);
    if (!next_settings) return false;
    settings_versions.push_back(std::make_unique<const RedisConfig>(std::move(*next_settings)));
    next_settings.reset();
    in_effect.store(settings_versions.back().get(), std::memory_order_release);
  }
  std::lock_guard lock(recipe_states_mutex);
  recipe_states.clear();  // rebuilt from the new settings at their next use (the keyring)
  return true;
}

void Engine::use_fallback_cache(const RedisConfig::FallbackCache& limits) {
  if (limits.max_entries == 0) {
    fallback.store(nullptr, std::memory_order_release);
    return;
  }
  const auto max_age = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(limits.max_age_s));
  auto& made = fallbacks.emplace_back(std::make_unique<FallbackCache>(FallbackLimits{
      static_cast<std::size_t>(limits.max_entries), static_cast<std::size_t>(limits.max_bytes), max_age}));
  fallback.store(made.get(), std::memory_order_release);
}

Engine::~Engine() {
  if (auto* current = pool.exchange(nullptr, std::memory_order_acq_rel)) current->stop();
  subscriber->stop();
  if (auto* locator = master_locator.exchange(nullptr)) locator->stop();
  // On the caller's io_context the stops run there later; their handlers hold what they touch.
  if (!own_io) return;
  work.reset();
  // Let the stops run (they fail whatever is queued), then end the thread. On the strand, behind the
  // stops: posted to the io_context itself, the stop could overtake stops waiting in the strand's queue.
  asio::post(strand, [this] {
    flush_deliveries();
    io.stop();
  });
  if (thread.joinable()) thread.join();
}

Result Engine::refuse_unavailable() const {
  return unavailable.refuse(settings().enabled ? Unavailable::Reason::not_connected : Unavailable::Reason::disabled);
}

void Resumption::complete(std::shared_ptr<Target>&& self, Result&& outcome) {
  const bool on_strand = outcome.ok() && engine.strand.running_in_this_thread();  // a reply: nearly always
  if (in_command_statistics && outcome.ok()) {
    engine.stats.count_command(on_strand);
    if (sent_at) engine.stats.latency.record(Clock::now() - *sent_at);
  }
  // Here, on the thread that counts the commands, not on the caller's after it resumes: one thread
  // writes these counters, and the caller's resumption stays small.
  engine.stats.count_reads(outcome, reads, on_strand);
  result = std::move(outcome);
  engine.deliver(std::static_pointer_cast<Resumption>(std::move(self)));
}

namespace {

// A caller's executor, counted busy while this thread posts to it: the caller's coroutine may end
// as soon as the post has queued it, and its io_context or thread pool with it (a pool's join()
// returns once no work is counted), while this thread is still inside the post. Counted per post,
// not per command: a suspended caller's own executor is not counted (co_spawn counts it).
asio::any_io_executor busy_while_posting(const asio::any_io_executor& executor) {
  return asio::prefer(executor, asio::execution::outstanding_work.tracked);
}

}  // namespace

void Engine::deliver(std::shared_ptr<Resumption> caller) {
  if (!strand.running_in_this_thread()) {  // refused at once on the caller's thread
    auto executor = busy_while_posting(caller->executor);
    asio::post(executor, [caller = std::move(caller)] { caller->resume(); });
    return;
  }
  if (deliveries.empty()) asio::post(strand, [this] { flush_deliveries(); });  // after this burst of replies
  deliveries.push_back(std::move(caller));
}

void Engine::flush_deliveries() {
  auto batch = std::move(deliveries);
  deliveries.clear();
  for (std::size_t first = 0; first < batch.size();) {
    std::size_t end = first + 1;
    while (end < batch.size() && batch[end]->executor == batch[first]->executor) ++end;
    std::vector<std::shared_ptr<Resumption>> callers(std::make_move_iterator(batch.begin() + first),
                                                     std::make_move_iterator(batch.begin() + end));
    auto executor = busy_while_posting(callers.front()->executor);
    asio::post(executor, [callers = std::move(callers)] {
      for (const auto& caller : callers) caller->resume();
    });
    first = end;
  }
}

}  // namespace routemq::redis
