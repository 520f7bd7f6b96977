#pragma once
// Bytes from a Redis connection to replies (hiredis' redisReader underneath). Feed whatever arrived,
// in any split; take complete replies out. A protocol error is sticky: the connection must be dropped.
//
//   parser.feed(bytes);
//   while (auto reply = parser.next()) handle(*reply);
//   if (parser.failed()) drop_connection(parser.error());
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plugins/redis/protocol/reply.hpp"

struct redisReader;

namespace routemq::redis {

class ReplyParser {
 public:
  ReplyParser();
  ~ReplyParser();
  ReplyParser(const ReplyParser&) = delete;
  ReplyParser& operator=(const ReplyParser&) = delete;

  void feed(std::string_view bytes);
  // The next complete reply, or nullopt when more bytes are needed (or after an error).
  std::optional<Reply> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  struct FreeReader {
    void operator()(redisReader* reader) const;
  };
  std::unique_ptr<redisReader, FreeReader> reader_;
  std::string error_;
};

}  // namespace routemq::redis
