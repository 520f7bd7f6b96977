#include "plugins/redis/recipes/dedupe_store.hpp"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/random_token.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/sha1_hex.hpp"

namespace routemq::redis {
namespace {

// KEYS[1] marker. ARGV: lease ms, this claim's token, owner, incarnation, fingerprint.
// -> {"first"} | {"taken_over"} | {"rebuild", kept replies} | {"duplicate", answers} | {"answers_lost"} |
//    {"in_flight"} | {"id_reused"}. <marker>:w holds the replies of the work written with a p: marker.
// Markers are found with plain string.find/sub: the owner and the answers are bytes, never a pattern.
const Script& claim_marker_script() {
  static const Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if not marker then
  redis.call('SET', KEYS[1], 'c:' .. ARGV[2], 'PX', ARGV[1])
  return {'first'}
end
if marker == 'done' then return {'duplicate', ''} end
local function reused(fingerprint) return ARGV[5] ~= '' and fingerprint ~= '' and fingerprint ~= ARGV[5] end
local state = string.sub(marker, 1, 2)
if state == 'd:' then
  local colon = string.find(marker, ':', 3, true)
  if not colon then return {'duplicate', ''} end  -- not a marker we wrote: done, nothing known
  if reused(string.sub(marker, 3, colon - 1)) then return {'id_reused'} end
  return {'duplicate', string.sub(marker, colon + 1)}
end
if state ~= 'c:' and state ~= 'p:' then return {'in_flight'} end
-- <random>:<incarnation>:<fingerprint>:<owner>
local a = string.find(marker, ':', 3, true)
local b = a and string.find(marker, ':', a + 1, true)
local c = b and string.find(marker, ':', b + 1, true)
if not c then return {'in_flight'} end  -- not a marker we wrote: its lease (or window) decides
local fingerprint = string.sub(marker, b + 1, c - 1)
if reused(fingerprint) then return {'id_reused'} end
local dead = ARGV[3] ~= '' and string.sub(marker, c + 1) == ARGV[3] and string.sub(marker, a + 1, b - 1) ~= ARGV[4]
if not dead then return {'in_flight'} end
if state == 'p:' then
  -- Its work is stored, its answers were not kept. With the work's replies kept, this copy takes it
  -- over to answer again from them; without, the answers are lost.
  local replies = redis.call('GET', KEYS[1] .. ':w')
  if replies then
    redis.call('SET', KEYS[1], 'p:' .. ARGV[2], 'KEEPTTL')
    return {'rebuild', replies}
  end
  redis.call('SET', KEYS[1], 'd:' .. fingerprint .. ':', 'KEEPTTL')
  return {'answers_lost'}
end
redis.call('SET', KEYS[1], 'c:' .. ARGV[2], 'PX', ARGV[1])
return {'taken_over'}
)lua");
  return script;
}

// KEYS[1] marker. ARGV: this claim's token, window ms, fingerprint, answers. Marks done unless another
// claim took over.
const Script& done_marker_script() {
  static const Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if (not marker) or marker == 'c:' .. ARGV[1] or marker == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[3] .. ':' .. ARGV[4], 'PX', ARGV[2])
  redis.call('DEL', KEYS[1] .. ':w')
  return 1
end
return 0
)lua");
  return script;
}

// KEYS[1] marker. ARGV: this claim's token, fingerprint. Only our own claim: deleted while it is a
// claim; once the work's writes landed with it (p:), done without answers.
const Script& release_claim_script() {
  static const Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if marker == 'c:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
if marker == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[2] .. ':', 'KEEPTTL')
  redis.call('DEL', KEYS[1] .. ':w')
end
return 0
)lua");
  return script;
}

// KEYS[1] marker. ARGV: this claim's token, lease ms. Only while it is still our claim ("c:").
const Script& extend_claim_script() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) == 'c:' .. ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");
  return script;
}

DedupeStore::Outcome outcome_named(const std::string& text) {
  if (text == "first" || text == "taken_over" || text == "rebuild") return DedupeStore::Outcome::first;
  if (text == "duplicate" || text == "answers_lost") return DedupeStore::Outcome::duplicate;
  if (text == "in_flight") return DedupeStore::Outcome::in_flight;
  if (text == "id_reused") return DedupeStore::Outcome::id_reused;
  return DedupeStore::Outcome::unavailable;  // a reply the script never gives
}

}  // namespace

const char* to_string(DedupeStore::Outcome outcome) {
  switch (outcome) {
    case DedupeStore::Outcome::first: return "first";
    case DedupeStore::Outcome::duplicate: return "duplicate";
    case DedupeStore::Outcome::in_flight: return "in_flight";
    case DedupeStore::Outcome::id_reused: return "id_reused";
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

awaitable<DedupeStore::Claim> DedupeStore::claim(std::string id, std::string_view content) {
  Claim claim{.id = std::move(id), .fingerprint = content.empty() ? std::string() : sha1_hex(content)};
  // The owner goes last: it may hold ':', the others (hex) do not.
  claim.token = random_token() + ":" + options_.incarnation + ":" + claim.fingerprint + ":" + options_.owner;
  const std::vector<std::string> keys{marker(claim.id)};
  const auto give_up = std::chrono::steady_clock::now() + options_.wait_for_in_flight;
  auto delay = std::chrono::milliseconds(10);
  while (true) {
    std::vector<std::string> args{std::to_string(options_.lease.count()), claim.token, options_.owner,
                                  options_.incarnation, claim.fingerprint};
    auto result = co_await redis_->eval(claim_marker_script(), keys, std::move(args));
    const auto& reply = result.reply;
    const bool answered = result.succeeded() && reply.type == Reply::Type::array && !reply.elements.empty();
    const std::string said = answered ? reply.elements[0].text : std::string();
    claim.outcome = answered ? outcome_named(said) : Outcome::unavailable;
    claim.taken_over = said == "taken_over" || said == "rebuild";
    claim.answers_lost = said == "answers_lost";
    if (said == "duplicate" && reply.elements.size() > 1) claim.answers = reply.elements[1].text;
    if (said == "rebuild" && reply.elements.size() > 1) claim.kept_replies = reply.elements[1].text;
    if (claim.outcome != Outcome::in_flight || std::chrono::steady_clock::now() + delay > give_up) break;
    // Another claim holds it: its outcome (done, or released on failure) decides ours.
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min(delay * 2, std::chrono::milliseconds(500));
  }
  if (claim.outcome != Outcome::first) claim.token.clear();
  co_return claim;
}

awaitable<bool> DedupeStore::done(Claim claim, std::string answers) {
  std::vector<std::string> keys{marker(claim.id)};
  std::vector<std::string> args{claim.token, std::to_string(options_.window.count()), claim.fingerprint,
                                std::move(answers)};
  auto marked = co_await redis_->eval(done_marker_script(), std::move(keys), std::move(args));
  co_return marked.succeeded() && marked.reply.as_integer() == 1;
}

void DedupeStore::done_in_background(Claim claim, std::string answers) const {
  // Parameters by value: the coroutine owns its copies of the store, the claim and the answers.
  auto mark = [](DedupeStore store, Claim done, std::string kept) -> awaitable<void> {
    if (!co_await store.done(done, std::move(kept)))
      spdlog::warn("dedupe: could not mark '{}' done (Redis did not take it, or its lease ran out)", done.id);
  };
  asio::co_spawn(redis_->io_context(), mark(*this, std::move(claim), std::move(answers)), asio::detached);
}

void DedupeStore::keep_answers_in_background(Claim claim, std::string answers) const {
  auto keep = [](DedupeStore store, Claim done, std::string kept) -> awaitable<void> {
    Pipeline pipe(*store.redis_);
    const auto name = store.marker(done.id);
    pipe.set(name, "d:" + done.fingerprint + ":" + kept, {.px = store.options_.window});
    pipe.del(name + ":w");
    if (!co_await pipe.run()) spdlog::warn("dedupe: could not keep the answers to '{}' (Redis did not take them)", done.id);
  };
  asio::co_spawn(redis_->io_context(), keep(*this, std::move(claim), std::move(answers)), asio::detached);
}

void DedupeStore::extend_in_background(const Claim& claim) const {
  std::vector<std::string> args{claim.token, std::to_string(options_.lease.count())};
  redis_->eval_detached(extend_claim_script(), {marker(claim.id)}, std::move(args));
}

void DedupeStore::release(const Claim& claim) const {
  std::vector<std::string> args{claim.token, claim.fingerprint};
  redis_->eval_detached(release_claim_script(), {marker(claim.id)}, std::move(args));
}

asio::io_context& DedupeStore::io_context() const { return redis_->io_context(); }

void DedupeStore::done_in(Pipeline& pipe, const Claim& claim, bool answers_follow) const {
  if (!answers_follow && claim.kept_replies.empty()) {
    pipe.set(marker(claim.id), "d:" + claim.fingerprint + ":", {.px = options_.window});
    return;
  }
  pipe.set(marker(claim.id), "p:" + claim.token, {.px = options_.window});
  // The work is stored already: its kept replies answer the pipeline (the marker's SET included, as
  // the first run had it), and nothing is sent.
  if (!claim.kept_replies.empty()) pipe.answer_from(claim.kept_replies);
  else pipe.keep_replies_in(marker(claim.id) + ":w", options_.window);
}

}  // namespace routemq::redis
