#include "plugins/redis/protocol/encoder.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace routemq::redis {

namespace {

// Most commands have a few arguments: their pointer and length arrays live on the stack then (two
// heap allocations less per command on the hot path).
constexpr std::size_t stack_args = 8;

template <class Args>
void append_formatted(std::string& out, const Args& args, const char** pointers, std::size_t* lengths) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    pointers[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), pointers, lengths);
  std::unique_ptr<char, void (*)(char*)> owner(formatted, redisFreeCommand);
  if (length < 0 || !formatted) throw std::bad_alloc();
  out.append(formatted, static_cast<std::size_t>(length));
}

template <class Args>
void append_args(std::string& out, const Args& args) {
  if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
  if (args.size() <= stack_args) {
    std::array<const char*, stack_args> pointers{};
    std::array<std::size_t, stack_args> lengths{};
    return append_formatted(out, args, pointers.data(), lengths.data());
  }
  std::vector<const char*> pointers(args.size());
  std::vector<std::size_t> lengths(args.size());
  append_formatted(out, args, pointers.data(), lengths.data());
}

}  // namespace

void append_command(std::string& out, const std::vector<std::string>& args) { append_args(out, args); }

std::string encode_command(const std::vector<std::string>& args) {
  std::string out;
  append_args(out, args);
  return out;
}

std::string encode_views(std::span<const std::string_view> args) {
  std::string out;
  append_args(out, args);
  return out;
}

}  // namespace routemq::redis
