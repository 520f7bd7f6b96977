#include "plugins/redis/protocol/reply_parser.hpp"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace routemq::redis {
namespace {

// Room reserved for an array's elements at most, whatever length it announces: the rest grows as
// elements arrive, so memory follows the bytes received, not a number a stream claims.
constexpr std::size_t most_reserved = 1024;
// A bulk string longer than this is refused: Redis sends at most proto-max-bulk-len (512 MB by
// default), and a larger length is more likely a broken stream than a value.
constexpr long long longest_bulk = 1LL << 32;

// What a reply's type byte is, for an error that names it.
std::string shown(char byte) {
  const auto c = static_cast<unsigned char>(byte);
  return c >= 0x20 && c < 0x7f ? fmt::format("'{}'", byte) : fmt::format("\\x{:02x}", c);
}

}  // namespace

void ReplyParser::feed(std::string_view bytes) {
  if (failed() || bytes.empty()) return;
  if (read_ == buffer_.size()) {
    buffer_.clear();
    read_ = 0;
  } else if (read_ > 0 && read_ >= buffer_.size() / 2) {  // keep the buffer from growing with what is read
    buffer_.erase(0, read_);
    read_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Reply> ReplyParser::next() {
  while (!failed()) {
    Reply item;
    switch (read_one(item)) {
      case Step::need_more:
      case Step::error:
        return std::nullopt;
      case Step::array_opened:
        continue;
      case Step::reply:
        break;
    }
    // A complete item: it ends every array it completes, innermost first.
    while (!open_.empty()) {
      auto& parent = open_.back();
      parent.array.elements.push_back(std::move(item));
      if (parent.array.elements.size() < parent.expected) break;
      item = std::move(parent.array);
      open_.pop_back();
    }
    if (open_.empty()) return item;
  }
  return std::nullopt;
}

// One reply off the buffer, written into `out` (a nil Reply), or the opening of an array (pushed on
// `open_`). Nothing is consumed unless the whole item is there: a bulk string's header is read
// again once its bytes arrive.
ReplyParser::Step ReplyParser::read_one(Reply& out) {
  const std::size_t start = read_;
  std::string_view line;
  if (!read_line(line)) return Step::need_more;
  if (line.empty()) {
    fail("Protocol error: an empty line where a reply was expected");
    return Step::error;
  }
  const char type = line.front();
  line.remove_prefix(1);
  long long count = 0;
  switch (type) {
    case '+':
      out.type = Reply::Type::status;
      out.text.assign(line);
      return Step::reply;
    case '-':
      out.type = Reply::Type::error;
      out.text.assign(line);
      return Step::reply;
    case ':':
      if (!read_count(line, count)) return Step::error;
      out.type = Reply::Type::integer;
      out.integer = count;
      return Step::reply;
    case '$': {
      if (!read_count(line, count)) return Step::error;
      if (count == -1) return Step::reply;  // nil
      if (count < 0 || count > longest_bulk) {
        fail(fmt::format("Protocol error: a bulk string of length {}", count));
        return Step::error;
      }
      const auto length = static_cast<std::size_t>(count);
      if (buffer_.size() - read_ < length + 2) {
        read_ = start;
        return Step::need_more;
      }
      // Two bytes compared as bytes, not by memcmp: glibc's AVX-512 memcmp (__memcmp_evex_movbe)
      // reads even two bytes with a masked 32-byte load, which turned slow (13% of a GET
      // benchmark's time, 95% of it on that load) after an unrelated change moved heap objects:
      // the cost depends on where the bytes lie, not on what the code does.
      if (buffer_[read_ + length] != '\r' || buffer_[read_ + length + 1] != '\n') {
        fail("Protocol error: a bulk string not followed by CRLF");
        return Step::error;
      }
      out.type = Reply::Type::string;
      out.text.assign(buffer_, read_, length);
      read_ += length + 2;
      return Step::reply;
    }
    case '*':
      if (!read_count(line, count)) return Step::error;
      if (count == -1) return Step::reply;  // nil
      if (count < 0) {
        fail(fmt::format("Protocol error: an array of length {}", count));
        return Step::error;
      }
      out.type = Reply::Type::array;
      if (count == 0) return Step::reply;
      if (open_.size() == max_depth) {
        fail(fmt::format("Protocol error: arrays nested more than {} deep", max_depth));
        return Step::error;
      }
      out.elements.reserve(std::min(static_cast<std::size_t>(count), most_reserved));
      open_.push_back({std::move(out), static_cast<std::size_t>(count)});
      return Step::array_opened;
    default:
      fail(fmt::format("Protocol error: got {} as a reply's type byte", shown(type)));
      return Step::error;
  }
}

// The next line, without its CRLF, consumed; false (nothing consumed) while it is incomplete.
bool ReplyParser::read_line(std::string_view& line) {
  const char* begin = buffer_.data() + read_;
  const std::size_t available = buffer_.size() - read_;
  for (std::size_t searched = 0; searched < available;) {
    const auto* cr = static_cast<const char*>(std::memchr(begin + searched, '\r', available - searched));
    if (!cr) return false;
    const auto at = static_cast<std::size_t>(cr - begin);
    if (at + 1 == available) return false;  // the LF may be on its way
    if (cr[1] == '\n') {
      line = std::string_view(begin, at);
      read_ += at + 2;
      return true;
    }
    searched = at + 1;
  }
  return false;
}

// A length or count is nearly always a few digits: read by hand, as from_chars would read them (up
// to 18 digits cannot overflow); a sign, more digits or anything else goes to from_chars, which
// checks. from_chars alone was a tenth of a GET reply's parsing.
bool ReplyParser::read_count(std::string_view line, long long& count) {
  if (!line.empty() && line.size() <= 18) {
    long long value = 0;
    std::size_t at = 0;
    for (; at < line.size() && line[at] >= '0' && line[at] <= '9'; ++at) value = value * 10 + (line[at] - '0');
    if (at == line.size()) {
      count = value;
      return true;
    }
  }
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), count);
  if (error == std::errc() && end == line.data() + line.size() && !line.empty()) return true;
  fail(fmt::format("Protocol error: '{}' is not a number", line.substr(0, 32)));
  return false;
}

void ReplyParser::fail(std::string why) { error_ = std::move(why); }

}  // namespace routemq::redis
