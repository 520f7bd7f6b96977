#include "plugins/redis/recipes/dedupe_store.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "plugins/redis/commands/commands.hpp"
#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/random_token.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/sha1_hex.hpp"

namespace routemq::redis {
namespace {

// KEYS[1] marker. ARGV: lease ms, this claim's token, owner, incarnation, fingerprint.
// -> {"first"} | {"taken_over"} | {"rebuild", kept replies} | {"duplicate", answers} | {"answers_lost"} |
//    {"in_flight"} | {"id_reused"}. A p: marker carries the replies of the work written with it after
// a NUL byte (none on a cluster). Markers are found with plain string.find/sub: the owner and the
// answers are bytes, never a pattern.
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
-- <random>:<incarnation>:<fingerprint>:<owner>, then (p:) NUL and the kept replies
local nul = string.find(marker, '\0', 3, true)
local token = string.sub(marker, 3, (nul or 0) - 1)
local a = string.find(token, ':', 1, true)
local b = a and string.find(token, ':', a + 1, true)
local c = b and string.find(token, ':', b + 1, true)
if not c then return {'in_flight'} end  -- not a marker we wrote: its lease (or window) decides
local fingerprint = string.sub(token, b + 1, c - 1)
if reused(fingerprint) then return {'id_reused'} end
local dead = ARGV[3] ~= '' and string.sub(token, c + 1) == ARGV[3] and string.sub(token, a + 1, b - 1) ~= ARGV[4]
if not dead then return {'in_flight'} end
if state == 'p:' then
  -- Its work is stored, its answers were not kept. With the work's replies kept, this copy takes it
  -- over to answer again from them; without, the answers are lost.
  if nul then
    redis.call('SET', KEYS[1], 'p:' .. ARGV[2] .. string.sub(marker, nul), 'KEEPTTL')
    return {'rebuild', string.sub(marker, nul + 1)}
  end
  redis.call('SET', KEYS[1], 'd:' .. fingerprint .. ':', 'KEEPTTL')
  return {'answers_lost'}
end
redis.call('SET', KEYS[1], 'c:' .. ARGV[2], 'PX', ARGV[1])
return {'taken_over'}
)lua");
  return script;
}

// Whether `marker` (a Lua local) is the claim of token ARGV[1], before its work (c:) or after (p:,
// its kept replies after a NUL).
constexpr const char* is_our_claim = R"lua(
local function ours(marker)
  if not marker then return false end
  if marker == 'c:' .. ARGV[1] then return true end
  local pending = 'p:' .. ARGV[1]
  return string.sub(marker, 1, #pending) == pending and (#marker == #pending or string.byte(marker, #pending + 1) == 0)
end
)lua";

// KEYS[1] marker. ARGV: this claim's token, window ms, fingerprint, answers. Marks done unless another
// claim took over.
const Script& done_marker_script() {
  static const Script script(std::string(is_our_claim) + R"lua(
local marker = redis.call('GET', KEYS[1])
if (not marker) or ours(marker) then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[3] .. ':' .. ARGV[4], 'PX', ARGV[2])
  return 1
end
return 0
)lua");
  return script;
}

// KEYS[1] marker. ARGV: this claim's token, fingerprint. Only our own claim: deleted while it is a
// claim; once the work's writes landed with it (p:), done without answers.
const Script& release_claim_script() {
  static const Script script(std::string(is_our_claim) + R"lua(
local marker = redis.call('GET', KEYS[1])
if marker == 'c:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
if ours(marker) then redis.call('SET', KEYS[1], 'd:' .. ARGV[2] .. ':', 'KEEPTTL') end
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

DedupeStore::DedupeStore(RedisManager& redis, Options options) : redis_(redis.share()), options_(std::move(options)) {
  // A NUL ends a pending marker's token (the kept replies follow it); an MQTT client id never holds
  // one [MQTT-1.5.4-2].
  if (options_.owner.find('\0') != std::string::npos) throw std::invalid_argument("dedupe: an owner cannot hold a NUL byte");
}

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
  // One SET over the p: marker (its kept replies go with it), sent without a coroutine of its own.
  redis_->run_detached(cmd::set(redis_->key_space(), marker(claim.id), "d:" + claim.fingerprint + ":" + answers,
                                {.px = options_.window}, redis_->default_ttl()),
                       "dedupe: could not keep the answers to '" + claim.id + "'");
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
  const auto name = marker(claim.id);
  if (!answers_follow && claim.kept_replies.empty()) {
    pipe.set(name, "d:" + claim.fingerprint + ":", {.px = options_.window});
    return;
  }
  // The work is stored already: its kept replies answer the pipeline, and nothing is sent.
  if (!claim.kept_replies.empty()) {
    pipe.answer_from(claim.kept_replies);
    return;
  }
  // The pending marker is written by the script that runs the work, with the work's replies after it.
  const auto pending = "p:" + claim.token;
  if (!pipe.keep_replies_in(name, options_.window, pending + '\0')) pipe.set(name, pending, {.px = options_.window});
}

}  // namespace routemq::redis
