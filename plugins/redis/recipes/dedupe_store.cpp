#include "plugins/redis/recipes/dedupe_store.hpp"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/random_token.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
namespace {

// KEYS[1] marker. ARGV: lease ms, this claim's marker, owner, incarnation.
// -> "first" | "taken_over" | "duplicate" | "in_flight"
const Script& claim_marker_script() {
  static const Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if not marker then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
  return 'first'
end
if marker == 'done' then return 'duplicate' end
if ARGV[3] ~= '' then
  local incarnation, owner = string.match(marker, '^claim:[^:]*:([^:]*):(.*)$')
  if owner == ARGV[3] and incarnation ~= ARGV[4] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
    return 'taken_over'
  end
end
return 'in_flight'
)lua");
  return script;
}

// KEYS[1] marker. ARGV: this claim's marker, window ms. Marks done unless another claim took over.
const Script& done_marker_script() {
  static const Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if (not marker) or marker == ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
return 0
)lua");
  return script;
}

// KEYS[1] marker. ARGV: this claim's marker. Compare-and-delete: only our own claim.
const Script& release_claim_script() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

DedupeStore::Outcome outcome_named(const std::string& text) {
  if (text == "first" || text == "taken_over") return DedupeStore::Outcome::first;
  if (text == "duplicate") return DedupeStore::Outcome::duplicate;
  if (text == "in_flight") return DedupeStore::Outcome::in_flight;
  return DedupeStore::Outcome::unavailable;  // a reply the script never gives
}

}  // namespace

const char* to_string(DedupeStore::Outcome outcome) {
  switch (outcome) {
    case DedupeStore::Outcome::first: return "first";
    case DedupeStore::Outcome::duplicate: return "duplicate";
    case DedupeStore::Outcome::in_flight: return "in_flight";
    case DedupeStore::Outcome::unavailable: return "unavailable";
  }
  return "unavailable";
}

const std::string& DedupeStore::process_incarnation() {
  static const std::string incarnation = random_token();
  return incarnation;
}

DedupeStore::DedupeStore(RedisManager& redis, Options options) : redis_(redis.share()), options_(std::move(options)) {}

std::string DedupeStore::marker(const std::string& id) const { return "dd:{" + id + "}"; }

awaitable<DedupeStore::Claim> DedupeStore::claim(std::string id) {
  // The owner goes last: it may hold ':', the token and incarnation (hex) do not.
  Claim claim{std::move(id), Outcome::unavailable,
              "claim:" + random_token() + ":" + options_.incarnation + ":" + options_.owner};
  const std::vector<std::string> keys{marker(claim.id)};
  const auto give_up = std::chrono::steady_clock::now() + options_.wait_for_in_flight;
  auto delay = std::chrono::milliseconds(10);
  while (true) {
    std::vector<std::string> args{std::to_string(options_.lease.count()), claim.token, options_.owner,
                                  options_.incarnation};
    auto result = co_await redis_->eval(claim_marker_script(), keys, std::move(args));
    claim.outcome = result.succeeded() ? outcome_named(result.reply.text) : Outcome::unavailable;
    claim.taken_over = result.succeeded() && result.reply.text == "taken_over";
    if (claim.outcome != Outcome::in_flight || std::chrono::steady_clock::now() + delay > give_up) break;
    // Another claim holds it: its outcome (done, or released on failure) decides ours.
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min(delay * 2, std::chrono::milliseconds(500));
  }
  if (claim.outcome != Outcome::first) claim.token.clear();
  co_return claim;
}

awaitable<bool> DedupeStore::done(Claim claim) {
  std::vector<std::string> keys{marker(claim.id)};
  std::vector<std::string> args{claim.token, std::to_string(options_.window.count())};
  auto marked = co_await redis_->eval(done_marker_script(), std::move(keys), std::move(args));
  co_return marked.succeeded() && marked.reply.as_integer() == 1;
}

void DedupeStore::done_in_background(Claim claim) const {
  // Parameters by value: the coroutine owns its copies of the store and the claim.
  auto mark = [](DedupeStore store, Claim done) -> awaitable<void> {
    if (!co_await store.done(done))
      spdlog::warn("dedupe: could not mark '{}' done (Redis did not take it, or its lease ran out)", done.id);
  };
  asio::co_spawn(redis_->io_context(), mark(*this, std::move(claim)), asio::detached);
}

void DedupeStore::release(const Claim& claim) const {
  std::vector<std::string> args{claim.token};
  redis_->eval_detached(release_claim_script(), {marker(claim.id)}, std::move(args));
}

asio::io_context& DedupeStore::io_context() const { return redis_->io_context(); }

void DedupeStore::done_in(Pipeline& pipe, const Claim& claim) const {
  pipe.set(marker(claim.id), "done", {.px = options_.window});
}

}  // namespace routemq::redis
