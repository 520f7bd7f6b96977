#include "plugins/redis/protocol/kept_replies.hpp"

#include <charconv>

#include "plugins/redis/protocol/reply_parser.hpp"

namespace routemq::redis {
namespace {

// Reads a number ending at `end` (the text after it starts past `end`), advancing `at`.
template <class T>
std::optional<T> number_until(std::string_view bytes, std::size_t& at, std::string_view end) {
  const auto stop = bytes.find(end, at);
  if (stop == std::string_view::npos || stop == at) return std::nullopt;
  T value{};
  const auto [ptr, ec] = std::from_chars(bytes.data() + at, bytes.data() + stop, value);
  if (ec != std::errc() || ptr != bytes.data() + stop) return std::nullopt;
  at = stop + end.size();
  return value;
}

// `n` bytes at `at`, advancing it.
std::optional<std::string> take(std::string_view bytes, std::size_t& at, std::size_t n) {
  if (n > bytes.size() - at) return std::nullopt;
  std::string out(bytes.substr(at, n));
  at += n;
  return out;
}

class KeptReader {
 public:
  explicit KeptReader(std::string_view kept) : kept_(kept) {}

  std::optional<Reply> reply(int depth) {
    if (at_ >= kept_.size() || depth > 32) return std::nullopt;
    const char tag = kept_[at_++];
    switch (tag) {
      case 'n': return Reply::nil();
      case 'i': {
        auto value = number_until<long long>(kept_, at_, ";");
        if (!value) return std::nullopt;
        return Reply::number(*value);
      }
      case 's':
      case 'e':
      case 'o': {
        auto text = counted_text();
        if (!text) return std::nullopt;
        if (tag == 's') return Reply::string(std::move(*text));
        return tag == 'e' ? Reply::error(std::move(*text)) : Reply::status(std::move(*text));
      }
      case 'a': {
        auto elements = list(depth + 1);
        if (!elements) return std::nullopt;
        return Reply::array(std::move(*elements));
      }
      default: return std::nullopt;
    }
  }

  // a<count>; then the elements
  std::optional<std::vector<Reply>> list(int depth) {
    auto count = number_until<std::size_t>(kept_, at_, ";");
    if (!count || *count > kept_.size() - at_) return std::nullopt;  // each element takes a byte at least
    std::vector<Reply> elements;
    elements.reserve(*count);
    for (std::size_t i = 0; i < *count; ++i) {
      auto element = reply(depth);
      if (!element) return std::nullopt;
      elements.push_back(std::move(*element));
    }
    return elements;
  }

  bool expect(char tag) {
    if (at_ >= kept_.size() || kept_[at_] != tag) return false;
    ++at_;
    return true;
  }
  bool at_end() const { return at_ == kept_.size(); }

 private:
  std::optional<std::string> counted_text() {
    auto length = number_until<std::size_t>(kept_, at_, ";");
    if (!length) return std::nullopt;
    return take(kept_, at_, *length);
  }

  std::string_view kept_;
  std::size_t at_ = 0;
};

}  // namespace

// A request is RESP too (arrays of bulk strings): the connection's own parser reads it.
std::optional<std::vector<std::vector<std::string>>> decode_commands(std::string_view bytes) {
  ReplyParser parser;
  parser.feed(bytes);
  std::vector<std::vector<std::string>> commands;
  while (auto reply = parser.next()) {
    if (!reply->is_array() || reply->elements.empty()) return std::nullopt;  // a command has a name
    std::vector<std::string> args;
    args.reserve(reply->elements.size());
    for (auto& arg : reply->elements) {
      if (arg.type != Reply::Type::string) return std::nullopt;
      args.push_back(std::move(arg.text));
    }
    commands.push_back(std::move(args));
  }
  // Everything read, nothing left half: a request cut short is not one.
  if (parser.failed() || !parser.idle()) return std::nullopt;
  return commands;
}

std::optional<std::vector<Reply>> decode_kept_replies(std::string_view kept) {
  KeptReader reader(kept);
  if (!reader.expect('a')) return std::nullopt;
  auto replies = reader.list(0);
  if (!replies || !reader.at_end()) return std::nullopt;
  return replies;
}

}  // namespace routemq::redis
