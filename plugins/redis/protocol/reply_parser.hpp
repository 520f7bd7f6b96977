#pragma once
// Bytes from a Redis connection to replies (RESP2). Feed whatever arrived, in any split; take
// complete replies out. A protocol error is sticky: the connection must be dropped.
//
//   parser.feed(bytes);
//   while (auto reply = parser.next()) handle(*reply);
//   if (parser.failed()) drop_connection(parser.error());
//
// Our own rather than hiredis' reader: that one builds a reply object of its own per reply, which
// was then copied into a Reply and freed (two allocations and a copy per command, a tenth of the
// client's instructions on the cluster benchmark). An array arriving in pieces is kept half built
// between feeds, so a long reply is read once, not again from its start on every feed.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

class ReplyParser {
 public:
  // Arrays nested deeper than this are refused as a protocol error (no Redis reply comes near it;
  // a hostile stream of "*1\r\n" must not grow the stack without end).
  static constexpr std::size_t max_depth = 32;

  void feed(std::string_view bytes);
  // The next complete reply, or nullopt when more bytes are needed (or after an error).
  std::optional<Reply> next();
  bool failed() const { return !error_.empty(); }
  // Every byte fed so far belongs to a reply next() has given out: nothing half read.
  bool idle() const { return read_ == buffer_.size() && open_.empty(); }
  const std::string& error() const { return error_; }

 private:
  struct OpenArray {
    Reply array;
    std::size_t expected = 0;
  };
  enum class Step { reply, array_opened, need_more, error };

  Step read_one(Reply& out);
  bool read_line(std::string_view& line);
  bool read_count(std::string_view line, long long& count);
  void fail(std::string why);

  std::string buffer_;
  std::size_t read_ = 0;            // buffer_[0, read_) is consumed
  std::vector<OpenArray> open_;     // arrays still waiting for elements, outermost first
  std::string error_;
};

}  // namespace routemq::redis
