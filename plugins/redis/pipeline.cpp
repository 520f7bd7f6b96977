#include "plugins/redis/pipeline.hpp"

#include "plugins/redis/commands/commands.hpp"
#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/kept_replies.hpp"
#include "plugins/redis/script.hpp"

namespace routemq::redis {
namespace {

// KEYS[1]: where the replies are kept. ARGV[1]: ttl ms, ARGV[2]: what they follow there, ARGV[3]: how
// many commands, then each command's argument count and arguments. Returns the replies as kept: one
// array packed by cmsgpack (C, where packing them in Lua cost this script a fifth of its time), read
// back by kept_replies.hpp the way Redis converts a script's values, within what Lua carries: an
// integer reply passes through a Lua number (exact up to 2^53).
const Script& keep_replies_script() {
  static const Script script(R"lua(
local replies, at = {}, 4
for i = 1, tonumber(ARGV[3]) do
  local argc = tonumber(ARGV[at])
  replies[i] = redis.pcall(unpack(ARGV, at + 1, at + argc))
  at = at + argc + 1
end
local kept = cmsgpack.pack(replies)
redis.call('SET', KEYS[1], ARGV[2] .. kept, 'PX', ARGV[1])
return kept
)lua");
  return script;
}

}  // namespace

Pipeline::Pipeline(RedisManager& redis) : redis_(redis) {}

bool Pipeline::keep_replies_in(std::string_view name, std::chrono::milliseconds ttl, std::string_view value_prefix) {
  if (redis_.on_cluster()) return false;
  keep_in_ = KeepIn{std::string(name), ttl, std::string(value_prefix)};
  return true;
}

bool Pipeline::answer_from(std::string_view kept) {
  auto replies = decode_kept_replies(kept);
  const bool usable = replies && replies->size() == batch_.size();
  kept_ = usable ? std::move(*replies) : std::vector<Reply>();  // nothing usable: every command fails
  return usable;
}

// The script's answer: its replies, as an array, once their kept form is read back. The commands go
// as the script's arguments as they were encoded.
awaitable<Result> Pipeline::run_keeping_replies(std::string bytes) {
  const auto commands = split_commands(bytes);
  if (!commands) co_return Result::failed(Failure::protocol, "the pipeline's own commands did not decode");
  const std::vector<std::string> names{keep_in_->name};
  const std::vector<std::string> args{std::to_string(keep_in_->ttl.count()), keep_in_->value_prefix,
                                      std::to_string(commands->size())};
  const auto& script = keep_replies_script();
  auto kept = co_await redis_.run(cmd::evalsha_over(redis_.key_space(), script.sha(), names, args, *commands));
  if (needs_source(kept))
    kept = co_await redis_.run(cmd::eval_over(redis_.key_space(), script.source(), names, args, *commands));
  if (!kept.succeeded() || kept.reply.type != Reply::Type::string) co_return kept;
  auto replies = decode_kept_replies(kept.reply.text);
  if (!replies) co_return Result::failed(Failure::protocol, "the replies the script kept did not decode");
  co_return Result::success(Reply::array(std::move(*replies)));
}

const Result& Pipeline::result(std::size_t index) const {
  static const Result not_run = Result::failed(Failure::unavailable, "the pipeline has not run");
  if (index >= places_.size()) return not_run;
  const auto& place = places_[index];
  if (!place.sent) return place.result;
  return *place.sent < replies_.size() ? replies_[*place.sent] : not_run;
}

// The named methods: the commands of the same names (commands/commands.hpp), queued.
Queued<std::optional<std::string>> Pipeline::get(std::string_view name) { return add(cmd::get(redis_.key_space(), name)); }

Queued<bool> Pipeline::set(std::string_view name, std::string_view value, SetOptions options) {
  return add(cmd::set(redis_.key_space(), name, value, options, redis_.default_ttl()));
}

Queued<long long> Pipeline::del(std::string_view name) { return add(cmd::del(redis_.key_space(), {std::string(name)})); }
Queued<bool> Pipeline::exists(std::string_view name) { return add(cmd::exists(redis_.key_space(), name)); }

Queued<bool> Pipeline::expire(std::string_view name, std::chrono::seconds ttl) {
  return add(cmd::expire(redis_.key_space(), name, ttl));
}

Queued<long long> Pipeline::pttl(std::string_view name) { return add(cmd::pttl(redis_.key_space(), name)); }
Queued<std::string> Pipeline::type(std::string_view name) { return add(cmd::type(redis_.key_space(), name)); }
Queued<std::optional<long long>> Pipeline::incr(std::string_view name) { return add(cmd::incr(redis_.key_space(), name)); }

Queued<std::optional<long long>> Pipeline::incrby(std::string_view name, long long by) {
  return add(cmd::incrby(redis_.key_space(), name, by));
}

Queued<long long> Pipeline::hset(std::string_view name, const std::map<std::string, std::string>& mapping) {
  return add(cmd::hset(redis_.key_space(), name, mapping));
}

Queued<std::optional<std::string>> Pipeline::hget(std::string_view name, std::string_view field) {
  return add(cmd::hget(redis_.key_space(), name, field));
}

Queued<long long> Pipeline::lpush(std::string_view name, const std::vector<std::string>& values) {
  return add(cmd::lpush(redis_.key_space(), name, values));
}

Queued<long long> Pipeline::rpush(std::string_view name, const std::vector<std::string>& values) {
  return add(cmd::rpush(redis_.key_space(), name, values));
}

Queued<bool> Pipeline::ltrim(std::string_view name, long long start, long long stop) {
  return add(cmd::ltrim(redis_.key_space(), name, start, stop));
}

Queued<std::vector<std::string>> Pipeline::lrange(std::string_view name, long long start, long long stop) {
  return add(cmd::lrange(redis_.key_space(), name, start, stop));
}

Queued<long long> Pipeline::sadd(std::string_view name, const std::vector<std::string>& members) {
  return add(cmd::sadd(redis_.key_space(), name, members));
}

// The replies of the commands sent: `answer` itself for one not in an array, the elements of the
// array otherwise; `answer` for each when it is not a reply to all of them. True when it is.
bool Pipeline::take_replies(Result answer, std::size_t expected, bool in_array) {
  replies_.clear();
  const bool answered = answer.ok() && (!in_array || answer.reply.elements.size() == expected);
  if (!answered) {
    replies_.assign(expected, answer);
  } else if (!in_array) {
    replies_.push_back(std::move(answer));
  } else {
    replies_.reserve(expected);
    for (auto& reply : answer.reply.elements) replies_.push_back(Result::success(std::move(reply)));
  }
  return answered;
}

// As the manager's run() counts them (an MGET's every value included).
void Pipeline::count_reads() {
  for (std::size_t index = 0; index < places_.size(); ++index) redis_.count_reads(result(index), places_[index].reads);
}

awaitable<bool> Pipeline::run() {
  const auto sent = batch_.size();
  auto request = std::exchange(batch_, {}).take();
  bool answered = true;
  if (kept_) {
    answered = kept_->size() == sent;
    if (answered) take_replies(Result::success(Reply::array(std::move(*kept_))), sent, true);
    else replies_.assign(sent, Result::failed(Failure::unavailable, "no kept replies to answer from"));
  } else if (sent > 0 || keep_in_) {  // a script keeping replies writes its key even for no commands
    // Two statements, not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
    Result answer;
    if (keep_in_) answer = co_await run_keeping_replies(std::move(request).take_bytes());
    else answer = co_await redis_.run(std::move(request));
    answered = take_replies(std::move(answer), sent, keep_in_ || sent > 1);  // a script's replies: one array
  }
  count_reads();
  co_return answered;
}

awaitable<bool> Pipeline::run_atomically() {
  const auto sent = batch_.size();
  bool committed = true;
  if (sent > 0) {
    auto exec = decode::transaction_outcome(co_await redis_.run(std::exchange(batch_, {}).take_as_transaction()));
    if (exec.ok() && !exec.succeeded()) exec = Result::failed(Failure::refused, exec.reply.text);  // not queued
    if (exec.ok() && !exec.reply.is_array()) exec = Result::failed(Failure::refused, "the transaction was aborted");
    committed = take_replies(std::move(exec), sent, true);
  }
  count_reads();
  co_return committed;
}

}  // namespace routemq::redis
