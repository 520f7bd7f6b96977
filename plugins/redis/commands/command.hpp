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
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

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
  std::string take_bytes() && { return std::move(bytes_); }
  // How many replies answer it: 1, or a batch's count (CommandBatch).
  std::size_t replies() const { return replies_; }
  // On a cluster, the slot of its keys; nullopt for a keyless command, or one whose keys span slots.
  std::optional<std::uint16_t> slot() const { return slot_; }
  bool spans_slots() const { return spans_slots_; }
  // It names no key (PING, PUBLISH, SCAN): a cluster may send it to any master.
  bool keyless() const { return keyless_; }
  // Shared connections, a connection of its own (it blocks or changes the connection), or nowhere.
  CommandPlace place() const { return place_; }
  // How many values it reads (GET: 1, MGET of 3 keys: 3), counted as hits (a string came back) or
  // misses (anything else, Redis unavailable included).
  std::uint32_t reads() const { return reads_; }
  Decode decoder() const { return decode_; }
  T decode(Result&& result) const { return decode_(std::move(result)); }
  // Its value when Redis is unavailable (or disabled): what the manager returns without a wait.
  T unavailable_value() const { return decode_(Result::failed(Failure::unavailable, "Redis is unavailable")); }

  // Nothing to send (no arguments): answered with this reply at once, no round trip.
  bool answered_here() const { return local_reply_.has_value(); }
  const std::optional<Reply>& local_reply() const { return local_reply_; }

  // The same command, its Result undecoded: for callers that must tell a miss from "unavailable".
  Command<Result> as_result() &&;

 private:
  friend class CommandBuilder;
  friend class CommandBatch;
  template <class U>
  friend class Command;
  Command(std::string bytes, Decode decode) : bytes_(std::move(bytes)), decode_(decode) {}
  std::size_t replies_ = 1;

  std::string bytes_;
  Decode decode_;
  std::optional<std::uint16_t> slot_;
  bool spans_slots_ = false;
  bool keyless_ = false;
  CommandPlace place_ = CommandPlace::shared;
  std::uint32_t reads_ = 0;
  std::optional<Reply> local_reply_;
};

// Writes one command's words straight into RESP, keys through a KeySpace (prefixed, slot noted).
// The factories' tool: the number of words is given first, as RESP puts it first.
class CommandBuilder {
 public:
  CommandBuilder(const KeySpace& keys, std::size_t words);

  CommandBuilder& word(std::string_view text);
  CommandBuilder& number(long long value);
  CommandBuilder& number(double value);  // shortest text that reads back the same (ZADD, INCRBYFLOAT)
  CommandBuilder& key(std::string_view name);  // the KeySpace's prefix, then `name`
  // Where it may run, when not on the shared connections (BLPOP: on one of its own).
  CommandBuilder& place(CommandPlace where);
  CommandBuilder& reads(std::uint32_t count);

  // The command, its bytes moved out: the builder is spent.
  template <class T>
  Command<T> build(typename Command<T>::Decode decode);

  // A command with nothing to send, answered with `reply` (a count of 0, an empty list).
  template <class T>
  static Command<T> answered_with(Reply reply, typename Command<T>::Decode decode);

 private:
  void header(char marker, std::size_t n);

  KeySpace keys_;
  std::string bytes_;
  std::size_t words_left_;
  std::optional<std::uint16_t> slot_;
  bool spans_slots_ = false;
  bool keyed_ = false;
  CommandPlace place_ = CommandPlace::shared;
  std::uint32_t reads_ = 0;
};

Result undecoded(Result&& result);  // Command<Result>'s decoder

// Commands joined into one request, one reply each (a Pipeline's): only Commands go in, so their keys
// still came through a KeySpace. The request's slot is theirs when they all share one; else a
// cluster reads each command's keys from the bytes and sends each slot's part to its master.
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
  void note_slot(std::optional<std::uint16_t> slot, bool spans_slots);

  std::string bytes_;
  std::size_t size_ = 0;
  std::optional<std::uint16_t> slot_;
  bool mixed_slots_ = false;  // keyless, spanning, or in two slots: the cluster reads the bytes
};

template <class T>
Command<Result> Command<T>::as_result() && {
  Command<Result> raw(std::move(bytes_), undecoded);
  raw.slot_ = slot_;
  raw.spans_slots_ = spans_slots_;
  raw.keyless_ = keyless_;
  raw.place_ = place_;
  raw.reads_ = reads_;
  raw.local_reply_ = std::move(local_reply_);
  raw.replies_ = replies_;
  return raw;
}

template <class T>
Command<T> CommandBuilder::build(typename Command<T>::Decode decode) {
  if (words_left_ != 0) throw std::logic_error("a command was built with fewer words than it announced");
  Command<T> command(std::move(bytes_), decode);
  command.slot_ = spans_slots_ ? std::nullopt : slot_;
  command.spans_slots_ = spans_slots_;
  command.keyless_ = !keyed_;
  command.place_ = place_;
  command.reads_ = reads_;
  return command;
}

template <class T>
bool CommandBatch::add(const Command<T>& command) {
  if (command.answered_here() || command.place() != CommandPlace::shared) return false;
  bytes_ += command.bytes();
  ++size_;
  note_slot(command.slot(), command.spans_slots());
  return true;
}

template <class T>
Command<T> CommandBuilder::answered_with(Reply reply, typename Command<T>::Decode decode) {
  Command<T> command(std::string(), decode);
  command.local_reply_ = std::move(reply);
  return command;
}

}  // namespace routemq::redis
