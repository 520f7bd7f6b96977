#include "plugins/redis/commands/command.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/recycled.hpp"

namespace routemq::redis {

Result undecoded(Result&& result) { return std::move(result); }

// The buffer of a command sent earlier on this thread, when one was given back: most commands then
// allocate nothing.
CommandBuilder::CommandBuilder(const KeySpace& keys, std::size_t words) : keys_(keys), words_left_(words) {
  if (words == 0) throw std::invalid_argument("a Redis command needs at least its name");
  RecycledBytes::take(bytes_);
  append_header(bytes_, '*', words);
}

void CommandBuilder::header(char marker, std::size_t n) {
  if (words_left_ == 0) throw std::logic_error("a command was given more words than it announced");
  --words_left_;
  append_header(bytes_, marker, n);
}

CommandBuilder& CommandBuilder::word(std::string_view text) {
  header('$', text.size());
  bytes_.append(text);
  bytes_.append("\r\n", 2);
  return *this;
}

CommandBuilder& CommandBuilder::number(long long value) {
  char text[24];
  const auto end = std::to_chars(text, text + sizeof(text), value).ptr;
  return word(std::string_view(text, static_cast<std::size_t>(end - text)));
}

CommandBuilder& CommandBuilder::number(double value) {
  const auto text = fmt::format("{}", value);
  return word(text);
}

// Written from its parts, never joined first; on a cluster its slot is read from where it was
// written, and a second key in another slot marks the command as spanning slots.
CommandBuilder& CommandBuilder::key(std::string_view name) {
  header('$', keys_.size_of(name));
  const auto starts_at = bytes_.size();
  bytes_.append(keys_.prefix()).append(keys_.scope()).append(name);
  keyed_ = true;
  if (keys_.on_cluster()) {
    const auto slot = hash_slot(std::string_view(bytes_).substr(starts_at));
    if (slot_ && *slot_ != slot) spans_slots_ = true;
    slot_ = slot;
  }
  bytes_.append("\r\n", 2);
  return *this;
}

CommandBuilder& CommandBuilder::place(CommandPlace where) {
  place_ = where;
  return *this;
}

CommandBuilder& CommandBuilder::reads(std::uint32_t count) {
  reads_ = count;
  return *this;
}

void CommandBatch::note_slot(std::optional<std::uint16_t> slot, bool spans_slots) {
  if (!slot || spans_slots || (size_ > 1 && slot_ != slot)) mixed_slots_ = true;
  slot_ = slot;
}

Command<Result> CommandBatch::take() && {
  Command<Result> batch(std::move(bytes_), undecoded);
  batch.replies_ = size_;
  if (!mixed_slots_) batch.slot_ = slot_;
  return batch;
}

Command<Result> CommandBatch::take_as_transaction() && {
  std::string bytes;
  RecycledBytes::take(bytes);
  bytes.append("*1\r\n$5\r\nMULTI\r\n").append(bytes_).append("*1\r\n$4\r\nEXEC\r\n");
  bytes_ = std::move(bytes);
  const auto commands = size_;
  auto batch = std::move(*this).take();
  batch.replies_ = commands + 2;
  return batch;
}

}  // namespace routemq::redis
