#include "middleware/dedupe.hpp"

#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "core/handling/eventual.hpp"
#include "middleware/claim_renewer.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_scope.hpp"
#include "middleware/key_template.hpp"
#include "middleware/rejection.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"

namespace routemq::middleware {
namespace {

// Recent ids while Redis is down, with their content's fingerprint and their answers: the same
// decisions as the Redis store, for this process only. Bounded by entries and by the answers' bytes,
// oldest forgotten first.
class RecentIds {
 public:
  using Claim = redis::DedupeStore::Claim;
  using Outcome = redis::DedupeStore::Outcome;

  RecentIds(std::size_t max_entries, std::size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  Claim claim(const std::string& id, const std::string& fingerprint) {
    std::lock_guard lock(mutex_);
    Claim claim{.id = id, .outcome = Outcome::first, .fingerprint = fingerprint};
    auto [entry, added] = entries_.try_emplace(id);
    if (added) {
      entry->second.fingerprint = fingerprint;
      order_.push_back(id);
      entry->second.age = std::prev(order_.end());
      forget_oldest_while_over();
      return claim;
    }
    const auto& seen = entry->second;
    if (!fingerprint.empty() && !seen.fingerprint.empty() && seen.fingerprint != fingerprint)
      claim.outcome = Outcome::id_reused;
    else if (!seen.done)
      claim.outcome = Outcome::in_flight;
    else {
      claim.outcome = Outcome::duplicate;
      claim.answers = seen.answers;
    }
    return claim;
  }

  void done(const std::string& id, std::string answers) {
    std::lock_guard lock(mutex_);
    auto entry = entries_.find(id);
    if (entry == entries_.end()) return;  // forgotten meanwhile
    entry->second.done = true;
    bytes_ += answers.size() - entry->second.answers.size();
    entry->second.answers = std::move(answers);
    forget_oldest_while_over();
  }

  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (auto entry = entries_.find(id); entry != entries_.end()) erase(entry);
  }

 private:
  struct Entry {
    std::string fingerprint;
    std::string answers;
    bool done = false;
    std::list<std::string>::iterator age;
  };

  void forget_oldest_while_over() {
    while (!order_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_))
      erase(entries_.find(order_.front()));
  }
  void erase(std::unordered_map<std::string, Entry>::iterator entry) {
    bytes_ -= entry->second.answers.size();
    order_.erase(entry->second.age);
    entries_.erase(entry);
  }

  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // oldest first
  std::size_t bytes_ = 0;
};

// The first claim of the message being handled, for mark_done_in(); `marked` once the handler's
// pipeline carries the marker.
struct ClaimInHand {
  const redis::DedupeStore* store;
  redis::DedupeStore::Claim claim;
  bool answers_follow = false;  // replay: the answers are kept after the handler, with "done"
  bool marked = false;
};
constexpr ContextKey<ClaimInHand> claim_in_hand{"dedupe.claim"};

struct DedupeOptions {
  KeyTemplate id = KeyTemplate::parse("{hash}");
  bool handle_without_id = false;  // on_missing_id: handle (the message is handled, not deduplicated)
  KeyScope key_scope;
  redis::DedupeStore::Options store;
  bool allow_when_unavailable = true;
  std::size_t memory = 10000;
  std::size_t memory_bytes = 16 << 20;
  bool replay = false;
  std::size_t replay_max_bytes = 64 << 10;
  // What the id stands for: the payload (default), nothing, or a key template over the message.
  enum class Fingerprint { payload, none, key } fingerprint = Fingerprint::payload;
  std::optional<KeyTemplate> fingerprint_key;
  Rejection rejection;  // where id_reused is answered
};

DedupeOptions read_dedupe_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  DedupeOptions o;
  o.id = KeyTemplate::from_option(setup.options, "id", r.string("id", "{hash}", {.non_empty = true}));
  o.handle_without_id = r.string("on_missing_id", "reject", {.one_of = {"reject", "handle"}}) == "handle";
  o.key_scope = KeyScope::read(r);
  o.store.window = r.seconds("window", 3600, {.min = 0.001, .max = 86400.0 * 365});
  o.store.lease = r.seconds("lease", 5, {.min = 0.001, .max = 86400});
  o.replay = r.boolean("replay", false);
  o.replay_max_bytes = static_cast<std::size_t>(r.integer("replay_max_bytes", 64 << 10, {.min = 0, .max = 64 << 20}));
  // With replay, a copy arriving while the first is handled waits for its answers by default.
  const bool retry_in_flight =
      r.string("in_flight", o.replay ? "retry" : "skip", {.one_of = {"skip", "retry"}}) == "retry";
  const auto retry_wait = r.seconds("retry_wait", 5, {.min = 0, .max = 3600});
  o.store.wait_for_in_flight = retry_in_flight ? retry_wait : std::chrono::milliseconds(0);
  const auto fingerprint = r.string("fingerprint", "payload", {.non_empty = true});
  if (fingerprint == "none") o.fingerprint = DedupeOptions::Fingerprint::none;
  else if (fingerprint != "payload") {
    o.fingerprint = DedupeOptions::Fingerprint::key;
    o.fingerprint_key = KeyTemplate::from_option(setup.options, "fingerprint", fingerprint);
  }
  o.rejection = Rejection::read(r, setup.options);
  o.allow_when_unavailable = r.string("on_unavailable", "allow", {.one_of = {"allow", "deny"}}) == "allow";
  o.memory = static_cast<std::size_t>(r.integer("memory", 10000, {.min = 1, .max = 10'000'000}));
  o.memory_bytes = static_cast<std::size_t>(r.integer("memory_bytes", 16 << 20, {.min = 0, .max = 1LL << 34}));
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

// The claim, owning its store and content: it may outlive the message that started it.
awaitable<redis::DedupeStore::Claim> claim_with(std::shared_ptr<redis::DedupeStore> store, std::string id,
                                                std::string content) {
  co_return co_await store->claim(std::move(id), content);
}

class Dedupe {
 public:
  explicit Dedupe(DedupeOptions options)
      : options_(std::move(options)),
        recent_(std::make_shared<RecentIds>(options_.memory, options_.memory_bytes)),
        renewer_(options_.store.lease) {}

  // Starts the claim now, when the chain prepares a run of middleware (middleware.hpp): it goes to
  // Redis with the others' decisions (rate_limit's) in one round trip. An id or fingerprint that cannot
  // be built is left to handle().
  void prepare(Context& ctx) {
    const auto id = options_.id.render(ctx);
    auto content = fingerprint_content(ctx);
    if (!id.ok() || !content.ok()) return;
    auto scoped_id = options_.key_scope.apply(ctx, id.key);
    auto store = std::make_shared<redis::DedupeStore>(redis::manager(ctx), options_.store);
    auto claim = start_early(store->io_context(), claim_with(store, scoped_id, std::move(content.key)));
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
    if (!id.ok() && options_.handle_without_id) {
      decide(ctx, "", "no_id");
      co_await next();
      co_return;
    }
    const auto content = fingerprint_content(ctx);
    for (const auto* rendered : {&id, &content}) {
      if (rendered->ok()) continue;
      decision_counters().count("dedupe", "key_error");
      throw InvalidPayload("dedupe: " + rendered->error);
    }
    const auto scoped_id = options_.key_scope.apply(ctx, id.key);
    redis::DedupeStore store(redis::manager(ctx), options_.store);
    const auto claim = co_await store.claim(scoped_id, content.key);
    co_await act_on(ctx, next, id.key, scoped_id, store, claim);
  }

 private:
  // What the id stands for; an empty key: nothing (fingerprint: none).
  KeyTemplate::Rendered fingerprint_content(Context& ctx) const {
    switch (options_.fingerprint) {
      case DedupeOptions::Fingerprint::payload: return {std::string(ctx.payload()), {}};
      case DedupeOptions::Fingerprint::none: return {};
      case DedupeOptions::Fingerprint::key: break;
    }
    return options_.fingerprint_key->render(ctx);
  }

  static void decide(Context& ctx, const std::string& id, const std::string& outcome) {
    ctx.set(dedupe_decision, DedupeDecision{id, outcome});
    decision_counters().count("dedupe", outcome);
  }

  // What the claim decides: the handler runs for a first claim (then done, or released when it
  // throws), a copy is answered by answer_copy(), and the in-process memory decides when Redis is
  // unavailable.
  awaitable<void> act_on(Context& ctx, Next& next, const std::string& id, const std::string& scoped_id,
                         const redis::DedupeStore& store, const redis::DedupeStore::Claim& claim) {
    if (claim.outcome == redis::DedupeStore::Outcome::unavailable) {
      co_await handle_without_redis(ctx, next, id, scoped_id, claim.fingerprint);
      co_return;
    }
    if (claim.outcome != redis::DedupeStore::Outcome::first) co_return answer_copy(ctx, id, claim);
    const bool rebuilding = !claim.kept_replies.empty();
    decide(ctx, id, rebuilding ? "rebuilt" : claim.taken_over ? "taken_over" : "first");
    if (rebuilding)
      spdlog::info("dedupe on '{}': id '{}' was stored by a process that died before its answers were kept; "
                   "answering again from its stored replies", ctx.topic(), id);
    if (options_.replay) ctx.record_answers();
    ctx.set(claim_in_hand, ClaimInHand{&store, claim, options_.replay});
    const auto held = renewer_.hold(store, claim);  // a slow handler keeps its claim past the lease
    try {
      co_await next();
    } catch (...) {
      store.release(claim);  // let a redelivery be handled
      throw;
    }
    // The marker (and the answers) are written after the handler, not awaited by it: the message's slot
    // is free a round trip sooner, and a copy arriving before the write lands still meets the claim
    // (with replay, it waits for the answers).
    const bool marked = ctx.get(claim_in_hand)->marked;
    if (!options_.replay && !rebuilding) {
      if (!marked) store.done_in_background(claim);
      co_return;
    }
    auto answers = options_.replay ? kept_answers(ctx, id) : std::string();
    if (marked) store.keep_answers_in_background(claim, std::move(answers));  // the work's "p:" marker is ours
    else store.done_in_background(claim, std::move(answers));
  }

  // A copy of a message handled (or being handled) before: answered again with replay, refused when
  // its id was used for other content, skipped otherwise.
  void answer_copy(Context& ctx, const std::string& id, const redis::DedupeStore::Claim& claim) const {
    using Outcome = redis::DedupeStore::Outcome;
    if (claim.outcome == Outcome::id_reused) {
      decide(ctx, id, "id_reused");
      spdlog::warn("dedupe on '{}': id '{}' was already used for other content; refused", ctx.topic(), id);
      options_.rejection.send(ctx, {{"error", "id_reused"}, {"id", id}});
      return;
    }
    if (claim.outcome != Outcome::duplicate) return decide(ctx, id, redis::to_string(claim.outcome));
    if (claim.answers_lost) {
      decide(ctx, id, "answers_lost");
      spdlog::warn("dedupe on '{}': id '{}' was handled by a process that died before its answers were kept; "
                   "not handled again, nothing to answer", ctx.topic(), id);
      return;
    }
    if (!options_.replay || claim.answers.empty()) return decide(ctx, id, "duplicate");
    auto answers = decode_answers(claim.answers);
    if (!answers) {
      decide(ctx, id, "duplicate");
      spdlog::warn("dedupe on '{}': the answers kept for id '{}' do not decode; not replayed", ctx.topic(), id);
      return;
    }
    ctx.replay(*answers);
    decide(ctx, id, "replayed");
  }

  // The handler's answers as kept for replay: empty when it answered nothing, or when they are over
  // replay_max_bytes (the id is then kept done without answers, logged and counted).
  std::string kept_answers(Context& ctx, const std::string& id) const {
    if (ctx.recorded_answers().empty()) return {};
    auto answers = encode_answers(ctx.recorded_answers());
    if (answers.size() <= options_.replay_max_bytes) return answers;
    decision_counters().count("dedupe", "answers_over_bound");
    spdlog::warn("dedupe on '{}': the answers to id '{}' take {} bytes, over replay_max_bytes ({}); its duplicates "
                 "will not be answered", ctx.topic(), id, answers.size(), options_.replay_max_bytes);
    return {};
  }

  awaitable<void> handle_without_redis(Context& ctx, Next& next, const std::string& id, const std::string& scoped_id,
                                       const std::string& fingerprint) {
    if (!options_.allow_when_unavailable) co_return decide(ctx, id, "unavailable");  // deny: skipped
    const auto claim = recent_->claim(scoped_id, fingerprint);
    if (claim.outcome != redis::DedupeStore::Outcome::first) co_return answer_copy(ctx, id, claim);
    decide(ctx, id, "unavailable");
    if (options_.replay) ctx.record_answers();
    try {
      co_await next();
    } catch (...) {
      recent_->forget(scoped_id);
      throw;
    }
    recent_->done(scoped_id, options_.replay ? kept_answers(ctx, id) : std::string());
  }

  DedupeOptions options_;
  std::shared_ptr<RecentIds> recent_;
  ClaimRenewer renewer_;
};

}  // namespace

void mark_done_in(Context& ctx, redis::Pipeline& pipe) {
  auto* held = ctx.get(claim_in_hand);
  if (!held || held->marked) return;
  held->store->done_in(pipe, held->claim, held->answers_follow);
  held->marked = true;
}

void register_dedupe(MiddlewareRegistry& registry) {
  registry.add("dedupe", [](const MiddlewareSetup& setup) { return make_middleware("dedupe", Dedupe(read_dedupe_options(setup))); });
}

}  // namespace routemq::middleware
