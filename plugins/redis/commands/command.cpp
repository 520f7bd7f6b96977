#include "plugins/redis/commands/command.hpp"

#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/recycled.hpp"

namespace routemq::redis {

Result undecoded(Result&& result) { return std::move(result); }

CommandBuilder& CommandBuilder::spill(std::string_view bytes) {
  if (!spilled()) spilled_.append(stack_, written());
  spilled_.append(bytes);
  at_ = end_ = stack_;
  return *this;
}

// The buffer of a command sent earlier on this thread, when one was given back: most commands then
// allocate nothing.
std::string CommandBuilder::take_bytes() {
  if (spilled()) return std::move(spilled_);
  std::string bytes;
  RecycledBytes::take(bytes);
  bytes.append(stack_, written());
  return bytes;
}

void CommandBuilder::write_long_header(char marker, std::size_t n) {
  char text[24];
  text[0] = marker;
  char* end = std::to_chars(text + 1, text + sizeof(text) - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  write(std::string_view(text, static_cast<std::size_t>(end - text)));
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

// A second key in another slot marks the command as spanning slots.
void CommandBuilder::note_slot(std::string_view full_key) {
  const auto slot = hash_slot(full_key);
  if (slot_ && *slot_ != slot) spans_slots_ = true;
  slot_ = slot;
}

void CommandBatch::note_slot(std::optional<std::uint16_t> slot, bool spans_slots, bool keyless) {
  if (!slot || spans_slots || (size_ > 1 && slot_ != slot)) mixed_slots_ = true;
  slot_ = slot;
  if (spans_slots || (!slot && !keyless)) slots_known_ = false;
  if (slots_known_) slots_.push_back(slot);
}

Command<Result> CommandBatch::take() && {
  Command<Result> batch(std::move(bytes_), undecoded);
  batch.replies_ = size_;
  batch.read_only_ = only_reads_ && size_ > 0;  // one write in it: the whole pipeline goes to the master
  if (!mixed_slots_) batch.slot_ = slot_;
  else if (slots_known_ && size_ > 1) batch.command_slots_ = std::make_shared<const std::vector<std::optional<std::uint16_t>>>(std::move(slots_));
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
  batch.read_only_ = false;  // MULTI and EXEC: a replica refuses a transaction on a cluster, and it is the master's to run
  // No transaction spans slots: the cluster reads its keys, and its refusal names them.
  batch.command_slots_ = nullptr;
  return batch;
}

}  // namespace routemq::redis
