// CacheAside::remember (one load per key, stale-while-revalidate), the Flight that lets concurrent
// misses share one load, and the manager's table of flights.
#include "plugins/redis/recipes/cache_aside.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <spdlog/spdlog.h>

#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

CacheAside::CacheAside(const RedisManager& redis) : redis_(redis.share()) {}

namespace {

// One load in progress: the caller running it, and its passengers, the callers waiting for its result
// on their own executors.
class Flight {
 public:
  // Suspends until complete() (at once if it already ran), resuming on the caller's executor.
  awaitable<Remembered> wait();
  void complete(const Remembered& result);

 private:
  using Passenger = std::function<void(Remembered)>;  // resumes one waiting caller
  std::mutex mutex_;
  std::optional<Remembered> result_;
  std::vector<Passenger> passengers_;
};

// The loads running now on one manager, by full key name, so that every CacheAside and every view of
// the same scope shares them (the manager's recipe state).
struct Flights {
  explicit Flights(const RedisConfig&) {}
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Flight>> running;
};

// ---- Flight

awaitable<Remembered> Flight::wait() {
  auto initiation = [this](auto handler) {
    // Tracked: the caller's io_context keeps running while its coroutine waits here.
    asio::any_io_executor executor =
        asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
    auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
    Passenger resume = [executor, shared_handler](Remembered result) {
      asio::post(executor, [shared_handler, result = std::move(result)]() mutable { (*shared_handler)(std::move(result)); });
    };
    std::unique_lock lock(mutex_);
    if (!result_) {
      passengers_.push_back(std::move(resume));
      return;
    }
    auto ready = *result_;
    lock.unlock();
    resume(std::move(ready));
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Remembered)>(std::move(initiation),
                                                                              asio::use_awaitable);
}

void Flight::complete(const Remembered& result) {
  std::vector<Passenger> passengers;
  {
    std::lock_guard lock(mutex_);
    if (result_) return;
    result_ = result;
    passengers.swap(passengers_);
  }
  for (auto& resume : passengers) resume(result);
}

// Completes the flight when the load ends in any way, the coroutine's frame being destroyed
// included: a waiter never waits for a load nobody runs any more.
class FlightGuard {
 public:
  explicit FlightGuard(std::function<void(const Remembered&)> finish) : finish_(std::move(finish)) {}
  ~FlightGuard() {
    if (finish_) finish_(Remembered{std::nullopt, Remembered::Source::failed, "the load was abandoned"});
  }
  FlightGuard(const FlightGuard&) = delete;
  FlightGuard& operator=(const FlightGuard&) = delete;
  void done(const Remembered& result) { std::exchange(finish_, nullptr)(result); }

 private:
  std::function<void(const Remembered&)> finish_;
};

}  // namespace

// ---- remember

awaitable<Remembered> CacheAside::remember_in(std::shared_ptr<RedisManager> redis, std::string name,
                                              RememberOptions options, Loader loader) {
  Pipeline pipe(*redis);
  auto stored = pipe.get(name);
  auto remaining = pipe.pttl(name);  // the TTL says whether the value is stale
  co_await pipe.run();
  std::optional<std::string> cached = stored.get();
  bool stale = false;
  if (cached) {
    const auto remaining_ms = remaining.get();  // -2 or -1 (no TTL): not stale
    const auto stale_window_ms = std::chrono::milliseconds(options.stale_while_revalidate).count();
    stale = stale_window_ms > 0 && remaining_ms >= 0 && remaining_ms <= stale_window_ms;
  }

  std::string decode_error;
  if (cached) {
    auto decoded = redis->decode_stored(name, *cached);  // an undecodable value is counted and logged there
    if (decoded.value) {
      if (!stale) {
        redis->count_cache(&CacheStats::hits);
        co_return Remembered{std::move(decoded.value), Remembered::Source::cache, {}};
      }
      redis->count_cache(&CacheStats::stale_hits);
      // Served now; reloaded in the background unless a load of this key is already running.
      // The reload outlives this call, and maybe this handle (a view made for one message): it runs
      // on a handle of its own.
      const auto executor = co_await asio::this_coro::executor;
      auto reload = [redis, name, options, loader = std::move(loader)]() -> awaitable<void> {
        co_await load_once(redis, name, options, loader);
      };
      asio::co_spawn(executor, std::move(reload), asio::detached);
      co_return Remembered{std::move(decoded.value), Remembered::Source::stale, {}};
    }
    decode_error = decoded.error + "; reloaded";
  }
  redis->count_cache(&CacheStats::misses);
  auto result = co_await load_once(redis, name, std::move(options), std::move(loader));
  if (result.error.empty()) result.error = std::move(decode_error);
  co_return result;
}

// Runs `loader` and stores its value, unless a load of `name` is running in this process: then
// waits for that one.
awaitable<Remembered> CacheAside::load_once(std::shared_ptr<RedisManager> redis, std::string name,
                                            RememberOptions options, Loader loader) {
  // By full key: every view of the same scope shares the load.
  const auto flight_key = redis->key(name);
  const auto flights = redis->recipe_state<Flights>();
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(flights->mutex);
    auto& slot = flights->running[flight_key];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    redis->count_cache(&CacheStats::shared_loads);
    auto shared = co_await flight->wait();
    if (shared.source == Remembered::Source::loaded) shared.source = Remembered::Source::shared_load;
    co_return shared;
  }

  FlightGuard guard([flights, flight_key, flight](const Remembered& result) {
    {
      std::lock_guard lock(flights->mutex);
      flights->running.erase(flight_key);
    }
    flight->complete(result);
  });
  redis->count_cache(&CacheStats::loads);
  Remembered result;
  try {
    // Not co_await inside a braced initializer: GCC 12 miscompiles that (the value came out freed).
    auto value = co_await loader();
    result.value = std::move(value);
    result.source = Remembered::Source::loaded;
  } catch (const std::exception& e) {
    redis->count_cache(&CacheStats::load_failures);
    result = Remembered{std::nullopt, Remembered::Source::failed, fmt::format("loading '{}' failed: {}", name, e.what())};
    spdlog::warn("redis: {}", result.error);
  }
  // Not stored when Redis is away, or when there is no time to keep it for, or a null not asked to be.
  // Kept through the stale window too: a stale value is served while it reloads.
  const auto keep_for = options.ttl + options.stale_while_revalidate;
  const bool storable = result.value && (!result.value->is_null() || options.cache_null);
  if (storable && keep_for.count() > 0)
    co_await CodecValues(*redis).set(name, *result.value, keep_for, std::move(options.tags));
  guard.done(result);
  co_return result;
}

}  // namespace routemq::redis
