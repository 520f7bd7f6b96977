#include "middleware/dedupe.hpp"

#include <list>
#include <mutex>
#include <unordered_set>

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "core/handling/eventual.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_scope.hpp"
#include "middleware/key_template.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"

namespace routemq::middleware {
namespace {

// Recently seen ids while Redis is down: bounded, oldest forgotten first.
class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity) : capacity_(capacity) {}
  // True when the id was new (and is now remembered).
  bool insert(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (!seen_.insert(id).second) return false;
    order_.push_back(id);
    if (order_.size() > capacity_) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (seen_.erase(id)) order_.remove(id);
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_set<std::string> seen_;
  std::list<std::string> order_;
};

// The first claim of the message being handled, for mark_done_in(); `marked` once the handler's
// pipeline carries the marker.
struct ClaimInHand {
  const redis::DedupeStore* store;
  redis::DedupeStore::Claim claim;
  bool marked = false;
};
constexpr ContextKey<ClaimInHand> claim_in_hand{"dedupe.claim"};

struct DedupeOptions {
  KeyTemplate id = KeyTemplate::parse("{hash}");
  KeyScope key_scope;
  redis::DedupeStore::Options store;
  bool allow_when_unavailable = true;
  std::size_t memory = 10000;
};

DedupeOptions read_dedupe_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  DedupeOptions o;
  o.id = KeyTemplate::from_option(setup.options, "id", r.string("id", "{hash}", {.non_empty = true}));
  o.key_scope = KeyScope::read(r);
  o.store.window = r.seconds("window", 3600, {.min = 0.001, .max = 86400.0 * 365});
  o.store.lease = r.seconds("lease", 30, {.min = 0.001, .max = 86400});
  const bool retry_in_flight = r.string("in_flight", "skip", {.one_of = {"skip", "retry"}}) == "retry";
  const auto retry_wait = r.seconds("retry_wait", 5, {.min = 0, .max = 3600});
  o.store.wait_for_in_flight = retry_in_flight ? retry_wait : std::chrono::milliseconds(0);
  o.allow_when_unavailable = r.string("on_unavailable", "allow", {.one_of = {"allow", "deny"}}) == "allow";
  o.memory = static_cast<std::size_t>(r.integer("memory", 10000, {.min = 1, .max = 10'000'000}));
  o.store.owner = setup.client_id;
  r.finish();
  return o;
}

// A claim started before dedupe's turn (prepare()). When dedupe's handle() never comes (a middleware
// before it in the chain stopped the message: rate limited), the claim is given back once it is known,
// so the id stays free for the message's next copy.
struct EarlyClaim {
  EarlyClaim(std::string id, std::string scoped_id, std::shared_ptr<redis::DedupeStore> store,
             std::shared_ptr<Eventual<redis::DedupeStore::Claim>> claim)
      : id(std::move(id)), scoped_id(std::move(scoped_id)), store(std::move(store)), claim(std::move(claim)) {}
  ~EarlyClaim() {
    if (taken) return;
    auto give_back = [](std::shared_ptr<redis::DedupeStore> store,
                        std::shared_ptr<Eventual<redis::DedupeStore::Claim>> claim) -> awaitable<void> {
      const auto unused = co_await claim->get();
      if (unused.outcome == redis::DedupeStore::Outcome::first) store->release(unused);
    };
    asio::co_spawn(store->io_context(), give_back(store, claim), asio::detached);
  }
  EarlyClaim(const EarlyClaim&) = delete;
  EarlyClaim& operator=(const EarlyClaim&) = delete;

  std::string id;  // as rendered by prepare(): handle() does not render it again
  std::string scoped_id;
  std::shared_ptr<redis::DedupeStore> store;
  std::shared_ptr<Eventual<redis::DedupeStore::Claim>> claim;
  bool taken = false;  // handle() awaited it
};
constexpr ContextKey<std::shared_ptr<EarlyClaim>> early_claim{"dedupe.early"};

// The claim, owning its store: it may outlive the message that started it.
awaitable<redis::DedupeStore::Claim> claim_with(std::shared_ptr<redis::DedupeStore> store, std::string id) {
  co_return co_await store->claim(std::move(id));
}

class Dedupe {
 public:
  explicit Dedupe(DedupeOptions options)
      : options_(std::move(options)), recent_(std::make_shared<RecentIds>(options_.memory)) {}

  // Starts the claim now, when the chain prepares a run of middleware (middleware.hpp): it goes to
  // Redis with the others' decisions (rate_limit's) in one round trip. An id that cannot be built is
  // left to handle().
  void prepare(Context& ctx) {
    const auto id = options_.id.render(ctx);
    if (!id.ok()) return;
    auto scoped_id = options_.key_scope.apply(ctx, id.key);
    auto store = std::make_shared<redis::DedupeStore>(redis::manager(ctx), options_.store);
    auto claim = start_early(store->io_context(), claim_with(store, scoped_id));
    ctx.set(early_claim, std::make_shared<EarlyClaim>(id.key, std::move(scoped_id), std::move(store), std::move(claim)));
  }

  awaitable<void> handle(Context& ctx, Next next) {
    if (auto* early = ctx.get(early_claim)) {
      (*early)->taken = true;
      const auto claim = co_await (*early)->claim->get();
      co_await act_on(ctx, next, (*early)->id, (*early)->scoped_id, *(*early)->store, claim);
      co_return;
    }
    const auto id = options_.id.render(ctx);
    if (!id.ok()) {
      decision_counters().count("dedupe", "key_error");
      throw InvalidPayload("dedupe: " + id.error);
    }
    const auto scoped_id = options_.key_scope.apply(ctx, id.key);
    redis::DedupeStore store(redis::manager(ctx), options_.store);
    const auto claim = co_await store.claim(scoped_id);
    co_await act_on(ctx, next, id.key, scoped_id, store, claim);
  }

 private:
  // What the claim decides: the handler runs for a first claim (then done, or released when it
  // throws), is skipped otherwise, and runs by the in-process memory when Redis is unavailable.
  awaitable<void> act_on(Context& ctx, Next& next, const std::string& id, const std::string& scoped_id,
                         const redis::DedupeStore& store, const redis::DedupeStore::Claim& claim) {
    const std::string outcome = claim.taken_over ? "taken_over" : redis::to_string(claim.outcome);
    ctx.set(dedupe_decision, DedupeDecision{id, outcome});
    decision_counters().count("dedupe", outcome);
    if (claim.outcome == redis::DedupeStore::Outcome::unavailable) {
      co_await handle_without_redis(next, scoped_id);
      co_return;
    }
    if (claim.outcome != redis::DedupeStore::Outcome::first) co_return;  // a duplicate, or still being handled
    ctx.set(claim_in_hand, ClaimInHand{&store, claim});
    try {
      co_await next();
    } catch (...) {
      store.release(claim);  // let a redelivery be handled
      throw;
    }
    if (ctx.get(claim_in_hand)->marked) co_return;
    // The marker is written after the handler, not awaited by it: the message's slot is free a round trip
    // sooner, and a copy arriving before the write lands still meets the claim.
    store.done_in_background(claim);
  }

  awaitable<void> handle_without_redis(Next& next, const std::string& id) {
    if (!options_.allow_when_unavailable) co_return;  // deny: skipped
    if (!recent_->insert(id)) co_return;              // seen by this process during the outage
    try {
      co_await next();
    } catch (...) {
      recent_->forget(id);
      throw;
    }
  }

  DedupeOptions options_;
  std::shared_ptr<RecentIds> recent_;
};

}  // namespace

void mark_done_in(Context& ctx, redis::Pipeline& pipe) {
  auto* held = ctx.get(claim_in_hand);
  if (!held || held->marked) return;
  held->store->done_in(pipe, held->claim);
  held->marked = true;
}

void register_dedupe(MiddlewareRegistry& registry) {
  registry.add("dedupe", [](const MiddlewareSetup& setup) { return make_middleware("dedupe", Dedupe(read_dedupe_options(setup))); });
}

}  // namespace routemq::middleware
