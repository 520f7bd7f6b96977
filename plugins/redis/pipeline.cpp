#include "plugins/redis/pipeline.hpp"

#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/encoder.hpp"
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

}  // namespace

Pipeline::Pipeline(RedisManager& redis) : redis_(redis) {}

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
  auto answer = co_await redis_.execute(std::exchange(bytes_, {}), queued_);
  const bool answered = answer.ok();
  if (!answered) {
    results_.assign(queued_, answer);
  } else if (queued_ == 1) {
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
