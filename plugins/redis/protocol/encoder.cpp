#include "plugins/redis/protocol/encoder.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <stdexcept>

namespace routemq::redis {

void append_command(std::string& out, const std::vector<std::string>& args) {
  if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), pointers.data(), lengths.data());
  std::unique_ptr<char, void (*)(char*)> owner(formatted, redisFreeCommand);
  if (length < 0 || !formatted) throw std::bad_alloc();
  out.append(formatted, static_cast<std::size_t>(length));
}

std::string encode_command(const std::vector<std::string>& args) {
  std::string out;
  append_command(out, args);
  return out;
}

}  // namespace routemq::redis
