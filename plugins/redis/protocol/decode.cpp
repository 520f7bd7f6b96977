#include "plugins/redis/protocol/decode.hpp"

#include <charconv>

namespace routemq::redis::decode {

namespace {

bool holds_string(const Result& result) { return result.succeeded() && result.reply.type == Reply::Type::string; }

}  // namespace

std::optional<std::string> string_or_nil(const Result& result) {
  if (!holds_string(result)) return std::nullopt;
  return result.reply.text;
}

std::optional<std::string> string_or_nil(Result&& result) {
  if (!holds_string(result)) return std::nullopt;
  return std::move(result.reply.text);
}

long long integer_or(const Result& result, long long fallback) {
  if (!result.succeeded()) return fallback;
  return result.reply.as_integer().value_or(fallback);
}

std::optional<long long> optional_integer(const Result& result) {
  if (!result.succeeded()) return std::nullopt;
  return result.reply.as_integer();
}

std::optional<double> optional_double(const Result& result) {
  if (!holds_string(result)) return std::nullopt;
  const auto& text = result.reply.text;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Compared byte by byte, not by memcmp (what == "OK" calls): reply_parser.cpp says why, and this
// check runs on every SET.
bool is_ok(const Result& result) {
  const auto& text = result.reply.text;
  return result.succeeded() && text.size() == 2 && text[0] == 'O' && text[1] == 'K';
}
bool is_one(const Result& result) { return integer_or(result, 0) == 1; }

std::vector<std::string> strings(const Result& result) {
  std::vector<std::string> out;
  if (!result.succeeded() || !result.reply.is_array()) return out;
  for (const auto& element : result.reply.elements)
    if (element.type == Reply::Type::string) out.push_back(element.text);
  return out;
}

std::vector<std::optional<std::string>> optional_strings(const Result& result, std::size_t expected) {
  std::vector<std::optional<std::string>> out;
  if (!result.succeeded() || !result.reply.is_array()) return std::vector<std::optional<std::string>>(expected);
  for (const auto& element : result.reply.elements)
    out.push_back(element.type == Reply::Type::string ? std::optional(element.text) : std::nullopt);
  return out;
}

Result transaction_outcome(Result replies) {
  if (!replies.ok() || !replies.reply.is_array() || replies.reply.elements.empty()) return replies;
  // MULTI's +OK, one +QUEUED (or an error) per command, then EXEC's reply.
  auto& elements = replies.reply.elements;
  for (std::size_t i = 1; i + 1 < elements.size(); ++i)
    if (elements[i].is_error()) return Result::success(Reply::error("transaction aborted: " + elements[i].text));
  return Result::success(std::move(elements.back()));
}

}  // namespace routemq::redis::decode
