#pragma once
// Handlers and middleware are coroutines on the app's executor.
//
//   struct Timing {
//     routemq::awaitable<void> handle(routemq::Context& ctx, routemq::Next next) {
//       auto start = std::chrono::steady_clock::now();
//       co_await next();              // not calling next() stops the chain: the handler is skipped
//       log(ctx.topic(), std::chrono::steady_clock::now() - start);
//     }
//   };
//   app.use(routemq::make_middleware("timing", Timing{}));
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/asio.hpp"
#include "core/handling/context.hpp"

namespace routemq {

class Chain;

// The rest of the chain after the current middleware. Cheap to copy; valid while the message is handled.
class Next {
 public:
  Next(const Chain& chain, std::size_t position, Context& context)
      : chain_(&chain), position_(position), context_(&context) {}
  awaitable<void> operator()() const;

 private:
  const Chain* chain_;
  std::size_t position_;
  Context* context_;
};

using Handler = std::function<awaitable<void>(Context&)>;

// A named middleware: the name shows in `routemq routes` and in logs.
struct Middleware {
  std::string name;
  std::function<awaitable<void>(Context&, Next)> handle;
  // Optional: starts this message's I/O (a database decision) without waiting for it; handle() then awaits
  // what was started (eventual.hpp). When the chain reaches a run of middleware that all have one, it
  // prepares the whole run first, so their decisions leave together: one round trip instead of one
  // each. What a prepared middleware started for a message its handle() never saw (an earlier one of
  // the run stopped the chain) it must undo itself. Never throws.
  std::function<void(Context&)> prepare{};
};

// Wraps any object with `awaitable<void> handle(Context&, Next)`, and `void prepare(Context&)` when it
// has one; the middleware owns it.
template <class M>
  requires requires(M& m, Context& c, Next n) {
    { m.handle(c, n) } -> std::same_as<awaitable<void>>;
  }
Middleware make_middleware(std::string name, M middleware) {
  auto shared = std::make_shared<M>(std::move(middleware));
  Middleware wrapped{std::move(name), [shared](Context& ctx, Next next) { return shared->handle(ctx, next); }};
  if constexpr (requires(M& m, Context& c) { m.prepare(c); })
    wrapped.prepare = [shared](Context& ctx) { shared->prepare(ctx); };
  return wrapped;
}

// Accepts a coroutine handler `awaitable<void>(Context&)` or a plain synchronous callable `void(Context&)`.
template <class F>
Handler make_handler(F function) {
  if constexpr (std::is_invocable_r_v<awaitable<void>, F&, Context&> &&
                std::is_same_v<std::invoke_result_t<F&, Context&>, awaitable<void>>) {
    return Handler(std::move(function));
  } else {
    static_assert(std::is_invocable_v<F&, Context&>, "a handler takes (routemq::Context&)");
    // The lambda lives in the Handler (owned by the route for the app's lifetime), so its capture
    // outlives every coroutine it starts.
    return [function = std::move(function)](Context& ctx) -> awaitable<void> {
      function(ctx);
      co_return;
    };
  }
}

// Middleware in order, then the handler. Composed once at start-up; run once per message.
class Chain {
 public:
  Chain(std::vector<Middleware> middleware, Handler handler)
      : middleware_(std::move(middleware)), handler_(std::move(handler)) {}

  awaitable<void> run(Context& context) const { return step(0, context); }
  const std::vector<Middleware>& middleware() const { return middleware_; }
  std::vector<std::string> names() const;

 private:
  friend class Next;
  awaitable<void> step(std::size_t position, Context& context) const;
  void prepare_run_from(std::size_t position, Context& context) const;

  std::vector<Middleware> middleware_;
  Handler handler_;
};

}  // namespace routemq
