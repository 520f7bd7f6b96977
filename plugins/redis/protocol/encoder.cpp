#include "plugins/redis/protocol/encoder.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "plugins/redis/recycled.hpp"

namespace routemq::redis {

namespace {

// "<marker><n>\r\n": an array's or a bulk string's header. Lengths under 100 (a command's array,
// nearly every key and small value) are written digit by digit, without to_chars' loop.
char* write_header(char* at, char marker, std::size_t n) {
  *at++ = marker;
  if (n < 10) {
    *at++ = static_cast<char>('0' + n);
  } else if (n < 100) {
    *at++ = static_cast<char>('0' + n / 10);
    *at++ = static_cast<char>('0' + n % 10);
  } else {
    at = std::to_chars(at, at + std::numeric_limits<std::size_t>::digits10 + 1, n).ptr;
  }
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

// A header's most bytes: the marker, a size_t's digits, CRLF.
constexpr std::size_t longest_header = 1 + std::numeric_limits<std::size_t>::digits10 + 1 + 2;

// At least the encoded size (every header counted at its longest): one pass over the arguments, not
// a count of each length's digits.
template <class Args>
std::size_t size_bound(const Args& args) {
  std::size_t size = longest_header;
  for (const auto& arg : args) size += longest_header + arg.size() + 2;
  return size;
}

// The command into `at`, which has size_bound(args) bytes; returns its end.
template <class Args>
char* write_args(char* at, const Args& args) {
  at = write_header(at, '*', args.size());
  for (const auto& arg : args) {
    at = write_header(at, '$', arg.size());
    if (!arg.empty()) std::memcpy(at, arg.data(), arg.size());  // an empty view's data() may be null
    at += arg.size();
    *at++ = '\r';
    *at++ = '\n';
  }
  return at;
}

// RESP written here rather than by hiredis' redisFormatCommandArgv, which formats every length with
// sprintf into a buffer of its own that is then copied and freed: in the example service's profile
// that formatting alone was about 4% of the app's CPU. A command (GET or SET of a short key and
// value, nearly every one) is written on the stack and appended in one copy: std::string cannot grow
// without filling what it adds (resize_and_overwrite is C++23), and counting the exact size first
// cost a pass of digit counting. Half the instructions of the exact-size resize this replaced.
template <class Args>
void append_args(std::string& out, const Args& args) {
  if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
  const std::size_t bound = size_bound(args);
  constexpr std::size_t on_stack = 256;
  if (bound <= on_stack) {
    char buffer[on_stack];
    out.append(buffer, static_cast<std::size_t>(write_args(buffer, args) - buffer));
    return;
  }
  const std::size_t old_size = out.size();
  out.resize(old_size + bound);
  out.resize(static_cast<std::size_t>(write_args(out.data() + old_size, args) - out.data()));
}

}  // namespace

void append_command(std::string& out, const std::vector<std::string>& args) { append_args(out, args); }

std::string encode_command(const std::vector<std::string>& args) {
  std::string out;
  RecycledBytes::take(out);
  append_args(out, args);
  return out;
}

void append_views(std::string& out, std::span<const std::string_view> args) { append_args(out, args); }

std::string encode_views(std::span<const std::string_view> args) {
  std::string out;
  RecycledBytes::take(out);
  append_args(out, args);
  return out;
}

}  // namespace routemq::redis
