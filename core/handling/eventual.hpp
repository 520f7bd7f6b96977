#pragma once
// A value that arrives later, awaited once: what a middleware started before the chain ran
// (Middleware::prepare) and awaits when its turn comes. Work started together goes out together: the
// database decisions of a chain leave in one pipelined batch, one round trip instead of one each.
//
//   auto decision = start_early(io, limiter.check(key));         // runs now, in the background
//   ...
//   auto value = co_await decision->get();                         // waits only if not there yet
//
// Boost 1.74 has no channels or promises for coroutines: the waiting coroutine's completion handler is
// kept here and posted (to its own executor) when the value is set. set() and get() may run on any
// threads; get() is called at most once.
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>

#include "core/asio.hpp"

namespace routemq {

template <class T>
class Eventual {
 public:
  void set(T value) {
    std::unique_lock lock(mutex_);
    value_ = std::move(value);
    wake(lock);
  }
  // The work threw: get() rethrows it.
  void fail(std::exception_ptr error) {
    std::unique_lock lock(mutex_);
    error_ = std::move(error);
    wake(lock);
  }

  bool ready() const {
    std::lock_guard lock(mutex_);
    return value_.has_value() || error_;
  }

  awaitable<T> get() {
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](auto handler) {
          std::unique_lock lock(mutex_);
          if (!value_ && !error_) {
            waiter_ = std::make_unique<WaiterFor<decltype(handler)>>(std::move(handler));
            return;
          }
          lock.unlock();
          resume(std::move(handler));
        },
        asio::use_awaitable);
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    co_return std::move(*value_);
  }

 private:
  void wake(std::unique_lock<std::mutex>& lock) {
    auto waiter = std::move(waiter_);
    lock.unlock();
    if (waiter) waiter->resume();
  }

  // The suspended coroutine, type-erased (its handler is move-only).
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void resume() = 0;
  };
  template <class Handler>
  struct WaiterFor final : Waiter {
    explicit WaiterFor(Handler h) : handler(std::move(h)) {}
    void resume() override { Eventual::resume(std::move(handler)); }
    Handler handler;
  };
  // Resumed through its own executor, never inline: set() may run inside another coroutine's step.
  template <class Handler>
  static void resume(Handler handler) {
    auto executor = asio::get_associated_executor(handler);
    asio::post(executor, std::move(handler));
  }

  mutable std::mutex mutex_;
  std::optional<T> value_;
  std::exception_ptr error_;
  std::unique_ptr<Waiter> waiter_;
};

// Starts `work` now on `io`; its value is awaited later through the Eventual.
template <class T>
std::shared_ptr<Eventual<T>> start_early(asio::io_context& io, awaitable<T> work) {
  auto eventual = std::make_shared<Eventual<T>>();
  auto run = [](awaitable<T> task, std::shared_ptr<Eventual<T>> into) -> awaitable<void> {
    try {
      T value = co_await std::move(task);
      into->set(std::move(value));
    } catch (...) {
      into->fail(std::current_exception());
    }
  };
  asio::co_spawn(io, run(std::move(work), eventual), asio::detached);
  return eventual;
}

}  // namespace routemq
