#include "core/handling/answers.hpp"

#include <cstdint>

namespace routemq {
namespace {

constexpr char format_version = 1;

enum Flag : std::uint8_t {
  retain = 1,
  reply = 2,
  has_response_topic = 4,
  has_correlation_data = 8,
};

void put_length(std::string& out, std::size_t n) {
  const auto v = static_cast<std::uint32_t>(n);
  out += static_cast<char>(v >> 24);
  out += static_cast<char>((v >> 16) & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_length(out, bytes.size());
  out += bytes;
}

// Reads what encode_answers wrote; every read checks the bytes left, so hostile bytes end in nullopt.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::optional<std::uint8_t> byte() {
    if (bytes_.empty()) return std::nullopt;
    const auto b = static_cast<std::uint8_t>(bytes_.front());
    bytes_.remove_prefix(1);
    return b;
  }
  std::optional<std::size_t> length() {
    if (bytes_.size() < 4) return std::nullopt;
    std::size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(bytes_[static_cast<std::size_t>(i)]);
    bytes_.remove_prefix(4);
    return n;
  }
  std::optional<std::string> string() {
    const auto n = length();
    if (!n || *n > bytes_.size()) return std::nullopt;
    std::string s(bytes_.substr(0, *n));
    bytes_.remove_prefix(*n);
    return s;
  }
  std::size_t left() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
};

std::optional<Answer> read_answer(Reader& in) {
  const auto flags = in.byte();
  const auto qos = in.byte();
  constexpr std::uint8_t known_flags = retain | reply | has_response_topic | has_correlation_data;
  if (!flags || !qos || *qos > 2 || (*flags & ~known_flags)) return std::nullopt;  // not what this version wrote
  Answer answer;
  answer.reply = *flags & reply;
  auto& options = answer.message.options;
  options.qos = *qos;
  options.retain = *flags & retain;
  auto topic = in.string();
  auto payload = in.string();
  if (!topic || !payload) return std::nullopt;
  answer.message.topic = std::move(*topic);
  answer.message.payload = std::move(*payload);
  if (*flags & has_response_topic) {
    if (!(options.response_topic = in.string())) return std::nullopt;
  }
  if (*flags & has_correlation_data) {
    if (!(options.correlation_data = in.string())) return std::nullopt;
  }
  const auto properties = in.length();
  if (!properties || *properties > in.left() / 8) return std::nullopt;  // each takes 8 bytes at least
  for (std::size_t i = 0; i < *properties; ++i) {
    auto key = in.string();
    auto value = in.string();
    if (!key || !value) return std::nullopt;
    options.user_properties.emplace_back(std::move(*key), std::move(*value));
  }
  return answer;
}

}  // namespace

std::string encode_answers(const Answers& answers) {
  std::string out(1, format_version);
  put_length(out, answers.size());
  for (const auto& [message, is_reply] : answers) {
    const auto& options = message.options;
    std::uint8_t flags = 0;
    if (options.retain) flags |= retain;
    if (is_reply) flags |= reply;
    if (options.response_topic) flags |= has_response_topic;
    if (options.correlation_data) flags |= has_correlation_data;
    out += static_cast<char>(flags);
    out += static_cast<char>(options.qos);
    put_bytes(out, message.topic);
    put_bytes(out, message.payload);
    if (options.response_topic) put_bytes(out, *options.response_topic);
    if (options.correlation_data) put_bytes(out, *options.correlation_data);
    put_length(out, options.user_properties.size());
    for (const auto& [key, value] : options.user_properties) {
      put_bytes(out, key);
      put_bytes(out, value);
    }
  }
  return out;
}

std::optional<Answers> decode_answers(std::string_view bytes) {
  Reader in(bytes);
  if (in.byte() != std::optional<std::uint8_t>(format_version)) return std::nullopt;
  const auto count = in.length();
  if (!count || *count > in.left() / 10) return std::nullopt;  // an answer takes 10 bytes at least
  Answers answers;
  answers.reserve(*count);
  for (std::size_t i = 0; i < *count; ++i) {
    auto answer = read_answer(in);
    if (!answer) return std::nullopt;
    answers.push_back(std::move(*answer));
  }
  if (in.left() != 0) return std::nullopt;
  return answers;
}

}  // namespace routemq
