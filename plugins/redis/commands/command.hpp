#pragma once
// A Redis command as a value: everything about it in one place, built once by its factory
// (commands.hpp) and run by whatever takes it (RedisManager::run, Pipeline::add) the same way.
//
//   auto get = cmd::get(redis.key_space(), "device:42");   // a Command<std::optional<std::string>>
//   std::optional<std::string> value = co_await redis.run(std::move(get));
//
// A command holds its encoded words with its keys already prefixed (keys enter only through the
// KeySpace of the manager or view that runs it, which also names their cluster slot), where it may
// run, how its reply decodes into T (the decoder gives the command's documented default when there
// is no usable reply: Redis unavailable, an error reply, another type), and how many reads it counts
// as hits or misses. A command with nothing to send (DEL of no keys) carries its reply instead.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/redis/commands/key_space.hpp"
#include "plugins/redis/protocol/command_policy.hpp"
#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

class CommandBuilder;

template <class T>
class Command {
 public:
  using Value = T;
  using Decode = T (*)(Result&&);

  // The encoded words (empty when answered_here()).
  const std::string& bytes() const { return bytes_; }
  // Its bytes to send, left to be moved from (not moved here: one string move less per command).
  std::string&& take_bytes() && { return std::move(bytes_); }
  // How many replies answer it: 1, or a batch's count (CommandBatch).
  std::size_t replies() const { return replies_; }
  // On a cluster, the slot of its keys; nullopt for a keyless command, or one whose keys span slots.
  std::optional<std::uint16_t> slot() const { return slot_; }
  bool spans_slots() const { return spans_slots_; }
  // It names no key (PING, PUBLISH, SCAN): a cluster may send it to any master.
  bool keyless() const { return keyless_; }
  // A batch's commands over several slots (CommandBatch): each one's slot, nullopt when keyless.
  using Slots = std::shared_ptr<const std::vector<std::optional<std::uint16_t>>>;
  const Slots& command_slots() const { return command_slots_; }
  // Shared connections, a connection of its own (it blocks or changes the connection), or nowhere.
  CommandPlace place() const { return place_; }
  // How many values it reads (GET: 1, MGET of 3 keys: 3), counted as hits (a string came back) or
  // misses (nil); no reply, or an error reply, is no read.
  std::uint32_t reads() const { return reads_; }
  // It only reads (GET, HGETALL, SCAN ...; a batch of nothing else): with redis.read_from, a replica
  // may answer it. Set by the factories of such commands; raw commands, scripts and transactions
  // never are (their words are not read to tell).
  bool read_only() const { return read_only_; }
  Decode decoder() const { return decode_; }
  T decode(Result&& result) const { return decode_(std::move(result)); }
  // Its value when Redis is unavailable (or disabled): what the manager returns without a wait.
  T unavailable_value() const { return decode_(Result::failed(Failure::unavailable, "Redis is unavailable")); }

  // Nothing to send (no arguments): answered with this reply at once, no round trip.
  bool answered_here() const { return local_reply_ != nullptr; }
  Result local_result() const { return Result::success(Reply(*local_reply_)); }

  // The same command, its Result undecoded: for callers that must tell a miss from "unavailable".
  Command<Result> as_result() &&;
  // The same keyless command sent to the cluster master serving `slot` (SinkNode::first_slot), for
  // what is asked of each master (INFO, DBSIZE); one Redis ignores the slot.
  Command to_slot(std::uint16_t slot) && {
    slot_ = slot;
    keyless_ = false;
    return std::move(*this);
  }

 private:
  friend class CommandBuilder;
  friend class CommandBatch;
  template <class U>
  friend class Command;
  Command(std::string bytes, Decode decode) : bytes_(std::move(bytes)), decode_(decode) {}

  std::string bytes_;
  Decode decode_;
  std::size_t replies_ = 1;
  std::optional<std::uint16_t> slot_;
  bool spans_slots_ = false;
  bool keyless_ = false;
  Slots command_slots_;
  CommandPlace place_ = CommandPlace::shared;
  std::uint32_t reads_ = 0;
  bool read_only_ = false;
  // Behind a pointer: nearly every command has none, and a Command is moved on every call's path.
  std::unique_ptr<const Reply> local_reply_;
};

// Writes one command's words straight into RESP, keys through a KeySpace (prefixed, slot noted).
// The factories' tool: the number of words is given first, as RESP puts it first. A command is
// written on the stack and copied once into a recycled buffer when built: GET and SET, nearly every
// command, then cost one copy and no allocation (appended word by word to a std::string, they cost
// the manager a tenth of its GET rate).
class CommandBuilder {
 public:
  [[gnu::always_inline]] CommandBuilder(const KeySpace& keys, std::size_t words) : keys_(keys), words_left_(words) {
    if (words == 0) throw std::invalid_argument("a Redis command needs at least its name");
    write_header('*', words);
  }
  CommandBuilder(const CommandBuilder&) = delete;
  CommandBuilder& operator=(const CommandBuilder&) = delete;

  [[gnu::always_inline]] CommandBuilder& word(std::string_view text) {
    header('$', text.size());
    write(text);
    return write("\r\n");
  }
  CommandBuilder& number(long long value);
  CommandBuilder& number(double value);  // shortest text that reads back the same (ZADD, INCRBYFLOAT)
  // The KeySpace's prefix, then `name`; on a cluster its slot noted.
  [[gnu::always_inline]] CommandBuilder& key(std::string_view name) {
    header('$', keys_.size_of(name));
    const auto starts_at = written();
    write(keys_.prefix());
    write(keys_.scope());
    write(name);
    keyed_ = true;
    if (keys_.on_cluster()) note_slot(written_since(starts_at));  // the key as written: never joined apart
    return write("\r\n");
  }
  // `words` words already encoded as RESP bulk strings (another command's: split_commands()).
  CommandBuilder& encoded(std::size_t words, std::string_view bulk_strings) {
    if (words > words_left_) throw std::logic_error("a command was given more words than it announced");
    words_left_ -= words;
    return write(bulk_strings);
  }
  // Where it may run, when not on the shared connections (BLPOP: on one of its own).
  CommandBuilder& place(CommandPlace where) {
    place_ = where;
    return *this;
  }
  CommandBuilder& reads(std::uint32_t count) {
    reads_ = count;
    return *this;
  }
  // The command only reads: a replica may answer it (Command::read_only()).
  CommandBuilder& read_only() {
    read_only_ = true;
    return *this;
  }

  // The command, its bytes moved out: the builder is spent.
  template <class T>
  Command<T> build(typename Command<T>::Decode decode);

  // A command with nothing to send, answered with `reply` (a count of 0, an empty list).
  template <class T>
  static Command<T> answered_with(Reply reply, typename Command<T>::Decode decode);

 private:
  // A word's header: counted against the words announced.
  [[gnu::always_inline]] void header(char marker, std::size_t n) {
    if (words_left_ == 0) throw std::logic_error("a command was given more words than it announced");
    --words_left_;
    write_header(marker, n);
  }
  // "<marker><n>\r\n". Lengths under 100 (nearly every word) digit by digit.
  [[gnu::always_inline]] void write_header(char marker, std::size_t n) {
    if (n >= 100 || room() < 5) return write_long_header(marker, n);
    char* at = at_;
    *at++ = marker;
    if (n >= 10) *at++ = static_cast<char>('0' + n / 10);
    *at++ = static_cast<char>('0' + n % 10);
    *at++ = '\r';
    *at++ = '\n';
    at_ = at;
  }
  void write_long_header(char marker, std::size_t n);
  bool spilled() const { return !spilled_.empty(); }
  std::size_t room() const { return static_cast<std::size_t>(end_ - at_); }
  std::size_t written() const { return spilled() ? spilled_.size() : static_cast<std::size_t>(at_ - stack_); }
  std::string_view written_since(std::size_t at) const {
    return spilled() ? std::string_view(spilled_).substr(at) : std::string_view(stack_ + at, written() - at);
  }
  // Inline into every factory: one compare and a copy (of a known size for a command's name), where
  // a call per word cost GET a tenth of its instructions.
  [[gnu::always_inline]] CommandBuilder& write(std::string_view bytes) {
    if (bytes.size() > room()) return spill(bytes);
    if (!bytes.empty()) std::memcpy(at_, bytes.data(), bytes.size());
    at_ += bytes.size();
    return *this;
  }
  CommandBuilder& spill(std::string_view bytes);  // the rest goes to spilled_
  void note_slot(std::string_view full_key);  // on a cluster
  std::string take_bytes();

  KeySpace keys_;
  std::size_t words_left_;
  char stack_[256];
  char* at_ = stack_;                    // where the next byte goes
  char* end_ = stack_ + sizeof(stack_);  // at_ once spilled: every later byte goes to spilled_
  std::string spilled_;  // everything, once the stack is too small for the command
  std::optional<std::uint16_t> slot_;
  bool spans_slots_ = false;
  bool keyed_ = false;
  CommandPlace place_ = CommandPlace::shared;
  std::uint32_t reads_ = 0;
  bool read_only_ = false;
};

Result undecoded(Result&& result);  // Command<Result>'s decoder

// Commands joined into one request, one reply each (a Pipeline's): only Commands go in, so their keys
// still came through a KeySpace. On a cluster the request's slot is theirs when they all share one;
// else it carries each command's slot, and the cluster sends each slot's part to its master. Only a
// command whose own keys span slots (MGET over several) leaves the cluster reading the bytes.
class CommandBatch {
 public:
  // Appends its bytes; false (nothing appended) for a command answered here or not for the shared
  // connections, which the caller answers itself.
  template <class T>
  bool add(const Command<T>& command);
  std::size_t size() const { return size_; }
  // MULTI, the commands, EXEC: one reply for each of them and EXEC's (decode::transaction_outcome).
  Command<Result> take_as_transaction() &&;
  Command<Result> take() &&;

 private:
  void note_slot(std::optional<std::uint16_t> slot, bool spans_slots, bool keyless);

  std::string bytes_;
  std::size_t size_ = 0;
  std::optional<std::uint16_t> slot_;
  bool mixed_slots_ = false;  // keyless, spanning, or in two slots
  std::vector<std::optional<std::uint16_t>> slots_;  // each command's, while each has one (or none)
  bool slots_known_ = true;  // false: a command spans slots, or no slots at all (one Redis)
  bool only_reads_ = true;   // every command added is read-only: the batch may go to a replica
};

template <class T>
Command<Result> Command<T>::as_result() && {
  Command<Result> raw(std::move(bytes_), undecoded);
  raw.slot_ = slot_;
  raw.spans_slots_ = spans_slots_;
  raw.keyless_ = keyless_;
  raw.command_slots_ = std::move(command_slots_);
  raw.place_ = place_;
  raw.reads_ = reads_;
  raw.read_only_ = read_only_;
  raw.local_reply_ = std::move(local_reply_);
  raw.replies_ = replies_;
  return raw;
}

template <class T>
Command<T> CommandBuilder::build(typename Command<T>::Decode decode) {
  if (words_left_ != 0) throw std::logic_error("a command was built with fewer words than it announced");
  Command<T> command(take_bytes(), decode);
  command.slot_ = spans_slots_ ? std::nullopt : slot_;
  command.spans_slots_ = spans_slots_;
  command.keyless_ = !keyed_;
  command.place_ = place_;
  command.reads_ = reads_;
  command.read_only_ = read_only_;
  return command;
}

template <class T>
bool CommandBatch::add(const Command<T>& command) {
  if (command.answered_here() || command.place() != CommandPlace::shared) return false;
  bytes_ += command.bytes();
  ++size_;
  only_reads_ = only_reads_ && command.read_only();
  note_slot(command.slot(), command.spans_slots(), command.keyless());
  return true;
}

template <class T>
Command<T> CommandBuilder::answered_with(Reply reply, typename Command<T>::Decode decode) {
  Command<T> command(std::string(), decode);
  command.local_reply_ = std::make_unique<const Reply>(std::move(reply));
  return command;
}

}  // namespace routemq::redis
