#include "plugins/redis/pipeline.hpp"

#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/protocol/kept_replies.hpp"
#include "plugins/redis/script.hpp"
#include "plugins/redis/set_arguments.hpp"

namespace routemq::redis {
namespace {

// The defaults of the manager's methods of the same names, as plain decoders.
long long count_or_zero(const Result& result) { return decode::integer_or(result, 0); }
long long ttl_or_missing(const Result& result) { return decode::integer_or(result, -2); }

std::vector<std::string> with_values(const char* verb, std::string key, const std::vector<std::string>& values) {
  std::vector<std::string> args{verb, std::move(key)};
  args.insert(args.end(), values.begin(), values.end());
  return args;
}

// KEYS[1]: where the replies are kept. ARGV[1]: ttl ms, ARGV[2]: how many commands, then each
// command's argument count and arguments. Returns the commands' replies, as a pipeline would, within
// what Lua carries: an integer reply passes through a Lua number (exact up to 2^53). The kept form
// is kept_replies.hpp's.
const Script& keep_replies_script() {
  static const Script script(R"lua(
local replies, at = {}, 3
for i = 1, tonumber(ARGV[2]) do
  local argc = tonumber(ARGV[at])
  replies[i] = redis.pcall(unpack(ARGV, at + 1, at + argc))
  at = at + argc + 1
end
local function kept(r)
  local t = type(r)
  if t == 'number' then return 'i' .. string.format('%d', r) .. ';' end
  if t == 'string' then return 's' .. #r .. ';' .. r end
  if t ~= 'table' then return 'n' end
  if r.err then return 'e' .. #r.err .. ';' .. r.err end
  if r.ok then return 'o' .. #r.ok .. ';' .. r.ok end
  local parts = {'a' .. #r .. ';'}
  for j = 1, #r do parts[#parts + 1] = kept(r[j]) end
  return table.concat(parts)
end
redis.call('SET', KEYS[1], kept(replies), 'PX', ARGV[1])
return replies
)lua");
  return script;
}

}  // namespace

Pipeline::Pipeline(RedisManager& redis) : redis_(redis) {}

void Pipeline::keep_replies_in(std::string_view name, std::chrono::milliseconds ttl) {
  if (!redis_.on_cluster()) keep_in_.emplace(std::string(name), ttl);
}

bool Pipeline::answer_from(std::string_view kept) {
  auto replies = decode_kept_replies(kept);
  const bool usable = replies && replies->size() == queued_;
  kept_ = usable ? std::move(*replies) : std::vector<Reply>();  // nothing usable: every command fails
  return usable;
}

awaitable<Result> Pipeline::run_keeping_replies() {
  const auto commands = decode_commands(bytes_);
  if (!commands) co_return Result::failed(Failure::protocol, "the pipeline's own commands did not decode");
  std::vector<std::string> args{std::to_string(keep_in_->second.count()), std::to_string(commands->size())};
  for (const auto& command : *commands) {
    args.push_back(std::to_string(command.size()));
    args.insert(args.end(), command.begin(), command.end());
  }
  bytes_.clear();
  std::vector<std::string> keys(1, keep_in_->first);
  co_return co_await redis_.eval(keep_replies_script(), std::move(keys), std::move(args));
}

template <class T>
Queued<T> Pipeline::queue(const std::vector<std::string>& args, T (*decode)(const Result&), bool is_read) {
  append_command(bytes_, args);
  return place(decode, is_read);
}

template <class T>
Queued<T> Pipeline::queue_views(std::span<const std::string_view> args, T (*decode)(const Result&)) {
  append_views(bytes_, args);
  return place(decode, false);
}

template <class T>
Queued<T> Pipeline::place(T (*decode)(const Result&), bool is_read) {
  if (is_read) reads_.push_back(queued_);
  return Queued<T>(*this, queued_++, decode);
}

const Result& Pipeline::result(std::size_t index) const {
  static const Result not_run = Result::failed(Failure::unavailable, "the pipeline has not run");
  return index < results_.size() ? results_[index] : not_run;
}

Queued<std::optional<std::string>> Pipeline::get(std::string_view name) {
  return queue({"GET", redis_.key(name)}, decode::string_or_nil, true);
}

Queued<bool> Pipeline::set(std::string_view name, std::string_view value, SetOptions options) {
  const auto full = redis_.key(name);
  const SetArguments args(full, value, options, redis_.default_ttl());
  return queue_views(args.views(), decode::is_ok);  // encoded now, from the views: no copies
}

Queued<long long> Pipeline::del(std::string_view name) { return queue({"DEL", redis_.key(name)}, count_or_zero); }

Queued<bool> Pipeline::exists(std::string_view name) { return queue({"EXISTS", redis_.key(name)}, decode::is_one); }

Queued<bool> Pipeline::expire(std::string_view name, std::chrono::seconds ttl) {
  return queue({"EXPIRE", redis_.key(name), std::to_string(ttl.count())}, decode::is_one);
}

Queued<long long> Pipeline::pttl(std::string_view name) { return queue({"PTTL", redis_.key(name)}, ttl_or_missing); }

Queued<std::optional<long long>> Pipeline::incr(std::string_view name) {
  return queue({"INCR", redis_.key(name)}, decode::optional_integer);
}

Queued<std::optional<long long>> Pipeline::incrby(std::string_view name, long long by) {
  return queue({"INCRBY", redis_.key(name), std::to_string(by)}, decode::optional_integer);
}

Queued<long long> Pipeline::hset(std::string_view name, const std::map<std::string, std::string>& mapping) {
  std::vector<std::string> args{"HSET", redis_.key(name)};
  for (const auto& [field, value] : mapping) {
    args.push_back(field);
    args.push_back(value);
  }
  return queue(args, count_or_zero);
}

Queued<std::optional<std::string>> Pipeline::hget(std::string_view name, std::string_view field) {
  return queue({"HGET", redis_.key(name), std::string(field)}, decode::string_or_nil, true);
}

Queued<long long> Pipeline::lpush(std::string_view name, const std::vector<std::string>& values) {
  return queue(with_values("LPUSH", redis_.key(name), values), count_or_zero);
}

Queued<long long> Pipeline::rpush(std::string_view name, const std::vector<std::string>& values) {
  return queue(with_values("RPUSH", redis_.key(name), values), count_or_zero);
}

Queued<bool> Pipeline::ltrim(std::string_view name, long long start, long long stop) {
  return queue({"LTRIM", redis_.key(name), std::to_string(start), std::to_string(stop)}, decode::is_ok);
}

Queued<std::vector<std::string>> Pipeline::lrange(std::string_view name, long long start, long long stop) {
  return queue({"LRANGE", redis_.key(name), std::to_string(start), std::to_string(stop)}, decode::strings);
}

Queued<long long> Pipeline::sadd(std::string_view name, const std::vector<std::string>& members) {
  return queue(with_values("SADD", redis_.key(name), members), count_or_zero);
}

awaitable<bool> Pipeline::run() {
  results_.clear();
  if (queued_ == 0) co_return true;
  if (kept_) {
    bytes_.clear();
    if (kept_->size() != queued_) {
      results_.assign(queued_, Result::failed(Failure::unavailable, "no kept replies to answer from"));
      co_return false;
    }
    for (auto& reply : *kept_) results_.push_back(Result::success(std::move(reply)));
    co_return true;
  }
  // Two statements, not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
  Result answer;
  if (keep_in_) answer = co_await run_keeping_replies();
  else answer = co_await redis_.execute(std::exchange(bytes_, {}), queued_);
  const bool answered = answer.ok() && (!keep_in_ || answer.reply.elements.size() == queued_);
  if (!answered) {
    results_.assign(queued_, answer);
  } else if (queued_ == 1 && !keep_in_) {
    results_.push_back(std::move(answer));
  } else {
    results_.reserve(queued_);
    for (auto& reply : answer.reply.elements) results_.push_back(Result::success(std::move(reply)));
  }
  for (const auto index : reads_) {
    if (!result(index).succeeded()) continue;
    redis_.count_read(result(index).reply.type == Reply::Type::string);
  }
  co_return answered;
}

}  // namespace routemq::redis
