#include "plugins/redis/cluster/command_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include "plugins/redis/cluster/hash_slot.hpp"

namespace routemq::redis {
namespace {

// Where a command's keys are, for the commands whose keys are not just their first argument.
enum class KeySpec {
  first,          // GET key ...: commands without an entry
  none,           // PING, PUBLISH, SCRIPT ...: no key
  all,            // DEL k1 k2 ...
  first_two,      // RENAME src dst, LMOVE src dst ...
  all_but_last,   // BLPOP k1 k2 timeout
  every_other,    // MSET k1 v1 k2 v2
  numkeys_at_2,   // EVAL script numkeys k1 k2 ... args, BLMPOP timeout numkeys k1 ...
  numkeys_at_1,   // ZUNION numkeys k1 k2 ..., SINTERCARD, LMPOP
  dest_numkeys,   // ZUNIONSTORE dest numkeys k1 k2 ...
  after_first,    // BITOP op dest k1 k2
  second,         // MEMORY USAGE key, OBJECT ENCODING key
  after_streams,  // XREAD ... STREAMS k1 k2 id1 id2
};

struct Entry {
  std::string_view name;
  KeySpec spec;
};

// Sorted by name: each letter's entries are together.
constexpr Entry key_specs[] = {
    {"asking", KeySpec::none},        {"auth", KeySpec::none},           {"bitop", KeySpec::after_first},
    {"blmove", KeySpec::first_two},   {"blmpop", KeySpec::numkeys_at_2},   {"blpop", KeySpec::all_but_last},
    {"brpop", KeySpec::all_but_last}, {"brpoplpush", KeySpec::first_two}, {"bzmpop", KeySpec::numkeys_at_2},
    {"bzpopmax", KeySpec::all_but_last}, {"bzpopmin", KeySpec::all_but_last}, {"client", KeySpec::none},
    {"cluster", KeySpec::none},       {"command", KeySpec::none},        {"config", KeySpec::none},
    {"copy", KeySpec::first_two},     {"dbsize", KeySpec::none},         {"del", KeySpec::all},
    {"discard", KeySpec::none},       {"echo", KeySpec::none},           {"eval", KeySpec::numkeys_at_2},
    {"eval_ro", KeySpec::numkeys_at_2}, {"evalsha", KeySpec::numkeys_at_2}, {"evalsha_ro", KeySpec::numkeys_at_2},
    {"exec", KeySpec::none},          {"exists", KeySpec::all},          {"fcall", KeySpec::numkeys_at_2},
    {"fcall_ro", KeySpec::numkeys_at_2}, {"flushall", KeySpec::none},    {"flushdb", KeySpec::none},
    {"function", KeySpec::none},      {"hello", KeySpec::none},          {"info", KeySpec::none},
    {"keys", KeySpec::none},          {"lastsave", KeySpec::none},       {"lmove", KeySpec::first_two},
    {"lmpop", KeySpec::numkeys_at_1}, {"memory", KeySpec::second},       {"mget", KeySpec::all},
    {"mset", KeySpec::every_other},   {"msetnx", KeySpec::every_other},  {"multi", KeySpec::none},
    {"object", KeySpec::second},      {"pfcount", KeySpec::all},         {"pfmerge", KeySpec::all},
    {"ping", KeySpec::none},          {"psubscribe", KeySpec::none},     {"publish", KeySpec::none},
    {"punsubscribe", KeySpec::none},  {"randomkey", KeySpec::none},      {"readonly", KeySpec::none},
    {"readwrite", KeySpec::none},     {"rename", KeySpec::first_two},    {"renamenx", KeySpec::first_two},
    {"role", KeySpec::none},          {"rpoplpush", KeySpec::first_two}, {"scan", KeySpec::none},
    {"script", KeySpec::none},        {"sdiff", KeySpec::all},           {"sdiffstore", KeySpec::all},
    {"select", KeySpec::none},        {"sinter", KeySpec::all},          {"sintercard", KeySpec::numkeys_at_1},
    {"sinterstore", KeySpec::all},    {"smove", KeySpec::first_two},     {"subscribe", KeySpec::none},
    {"sunion", KeySpec::all},         {"sunionstore", KeySpec::all},     {"time", KeySpec::none},
    {"touch", KeySpec::all},          {"unlink", KeySpec::all},          {"unsubscribe", KeySpec::none},
    {"unwatch", KeySpec::none},       {"wait", KeySpec::none},           {"watch", KeySpec::all},
    {"xread", KeySpec::after_streams}, {"xreadgroup", KeySpec::after_streams}, {"zdiff", KeySpec::numkeys_at_1},
    {"zdiffstore", KeySpec::dest_numkeys}, {"zinter", KeySpec::numkeys_at_1}, {"zinterstore", KeySpec::dest_numkeys},
    {"zmpop", KeySpec::numkeys_at_1}, {"zunion", KeySpec::numkeys_at_1}, {"zunionstore", KeySpec::dest_numkeys},
};

static_assert(std::is_sorted(std::begin(key_specs), std::end(key_specs),
                             [](const Entry& a, const Entry& b) { return a.name < b.name; }));
// The entries starting with each letter, [first, last): the search looks at a handful, not all.
constexpr auto entries_by_letter = [] {
  std::array<std::pair<std::size_t, std::size_t>, 26> ranges{};
  for (auto& range : ranges) range = {std::size(key_specs), std::size(key_specs)};
  for (std::size_t i = std::size(key_specs); i-- > 0;) {
    auto& range = ranges[static_cast<std::size_t>(key_specs[i].name[0] - 'a')];
    if (range.first == std::size(key_specs)) range.second = i + 1;  // its last entry, met first
    range.first = i;
  }
  return ranges;
}();

static_assert(std::all_of(entries_by_letter.begin(), entries_by_letter.end(),
                          [](const auto& range) { return range.second - range.first <= 16; }));

constexpr std::size_t longest_name = 12;  // "punsubscribe": a longer name has no entry
static_assert(std::all_of(std::begin(key_specs), std::end(key_specs),
                          [](const Entry& entry) { return entry.name.size() <= longest_name; }));

std::string lowercase(std::string_view text) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Commands without an entry name their key first (GET, SET, HSET, EXPIRE, ZADD ...). Asked of every
// command the cluster routes: the name is lowered into a buffer on the stack, not a string.
KeySpec spec_of(std::string_view name) {
  if (name.size() > longest_name) return KeySpec::first;
  char buffer[longest_name];
  for (std::size_t i = 0; i < name.size(); ++i) buffer[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  const std::string_view lower(buffer, name.size());
  if (lower.empty() || lower[0] < 'a' || lower[0] > 'z') return KeySpec::first;
  // A letter has at most 16 entries: their lengths, compared first, rule out all but one or two.
  const auto [first, last] = entries_by_letter[static_cast<std::size_t>(lower[0] - 'a')];
  for (std::size_t i = first; i < last; ++i)
    if (key_specs[i].name.size() == lower.size() && key_specs[i].name == lower) return key_specs[i].spec;
  return KeySpec::first;
}

std::size_t count_at(const std::vector<std::string_view>& args, std::size_t at) {
  std::size_t count = 0;
  if (at >= args.size()) return 0;
  const auto text = args[at];
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  return error == std::errc() && end == text.data() + text.size() ? count : 0;
}

// Calls `visit` with the arguments from `first` on, `count` of them (as many as there are).
template <class Visit>
void visit_span(const std::vector<std::string_view>& args, std::size_t first, std::size_t count, Visit& visit) {
  for (std::size_t i = first; i < args.size() && i - first < count; ++i) visit(args[i]);
}

// XREAD's keys: half of what follows STREAMS (the other half are their ids).
template <class Visit>
void visit_keys_after_streams(const std::vector<std::string_view>& args, Visit& visit) {
  for (std::size_t i = 1; i < args.size(); ++i)
    if (lowercase(args[i]) == "streams") return visit_span(args, i + 1, (args.size() - i - 1) / 2, visit);
}

// Calls `visit` with each key of one command, in order, without collecting them: the cluster asks
// this of every command it routes.
template <class Visit>
void visit_keys(const std::vector<std::string_view>& args, Visit&& visit) {
  if (args.size() < 2) return;
  switch (spec_of(args[0])) {
    case KeySpec::first:
      return visit(args[1]);
    case KeySpec::none:
      return;
    case KeySpec::all:
      return visit_span(args, 1, args.size(), visit);
    case KeySpec::first_two:
      return visit_span(args, 1, 2, visit);
    case KeySpec::all_but_last:
      return visit_span(args, 1, args.size() - 2, visit);
    case KeySpec::every_other:
      for (std::size_t i = 1; i < args.size(); i += 2) visit(args[i]);
      return;
    case KeySpec::numkeys_at_2:
      return visit_span(args, 3, count_at(args, 2), visit);
    case KeySpec::numkeys_at_1:
      return visit_span(args, 2, count_at(args, 1), visit);
    case KeySpec::dest_numkeys:
      visit(args[1]);
      return visit_span(args, 3, count_at(args, 2), visit);
    case KeySpec::after_first:
      return visit_span(args, 2, args.size(), visit);
    case KeySpec::second:
      return visit_span(args, 2, 1, visit);
    case KeySpec::after_streams:
      return visit_keys_after_streams(args, visit);
  }
}

// Reads one "<marker><number>\r\n" line of an encoded command (digits read by hand: this runs for
// every argument the cluster routes).
bool read_length(std::string_view& bytes, char marker, std::size_t& length) {
  constexpr std::size_t most_digits = 18;  // no overflow below
  if (bytes.empty() || bytes.front() != marker) return false;
  std::size_t at = 1, value = 0;
  for (; at < bytes.size() && bytes[at] >= '0' && bytes[at] <= '9'; ++at) {
    if (at > most_digits) return false;
    value = value * 10 + static_cast<std::size_t>(bytes[at] - '0');
  }
  if (at == 1 || at + 1 >= bytes.size() || bytes[at] != '\r' || bytes[at + 1] != '\n') return false;
  length = value;
  bytes.remove_prefix(at + 2);
  return true;
}

// One bulk string off the front of `bytes`.
bool read_bulk(std::string_view& bytes, std::string_view& arg) {
  std::size_t length = 0;
  if (!read_length(bytes, '$', length) || bytes.size() < length + 2 || bytes.substr(length, 2) != "\r\n") return false;
  arg = bytes.substr(0, length);
  bytes.remove_prefix(length + 2);
  return true;
}

// One encoded command off the front of `bytes`: *N then N bulk strings.
bool next_command(std::string_view& bytes, std::vector<std::string_view>& args) {
  std::size_t count = 0;
  if (!read_length(bytes, '*', count) || count > bytes.size()) return false;
  args.clear();
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view arg;
    if (!read_bulk(bytes, arg)) return false;
    args.push_back(arg);
  }
  return true;
}

// One encoded command off the front of `bytes`, its keys visited. Most commands name their key
// first (GET, SET, HSET ...): those are read without gathering their arguments; the others fill `args`.
template <class Visit>
bool visit_next_command_keys(std::string_view& bytes, std::vector<std::string_view>& args, Visit&& visit) {
  auto rest = bytes;
  std::size_t count = 0;
  std::string_view name, key;
  if (!read_length(rest, '*', count) || count < 2 || !read_bulk(rest, name) || spec_of(name) != KeySpec::first) {
    if (!next_command(bytes, args)) return false;
    visit_keys(args, visit);
    return true;
  }
  if (!read_bulk(rest, key)) return false;
  for (std::size_t i = 2; i < count; ++i) {
    std::string_view skipped;
    if (!read_bulk(rest, skipped)) return false;
  }
  visit(key);
  bytes = rest;
  return true;
}

}  // namespace

std::vector<std::string_view> command_keys(const std::vector<std::string_view>& args) {
  std::vector<std::string_view> keys;
  visit_keys(args, [&](std::string_view key) { keys.push_back(key); });
  return keys;
}

RequestSlot slot_of_request(std::string_view bytes) {
  RequestSlot where;
  std::vector<std::string_view> args;  // filled only for commands whose key is not simply the first argument
  const auto in_slot = [&](std::string_view key) {
    const auto slot = hash_slot(key);
    if (where.kind == RequestSlot::Kind::any_node) where = {RequestSlot::Kind::one_slot, slot, {}};
    if (slot != where.slot) where.kind = RequestSlot::Kind::cross_slot;
  };
  for (auto rest = bytes; !rest.empty();)
    if (!visit_next_command_keys(rest, args, in_slot)) return {RequestSlot::Kind::unreadable, 0, {}};
  if (where.kind == RequestSlot::Kind::cross_slot)  // the keys again, for the failure's words
    for (auto rest = bytes; next_command(rest, args);)
      visit_keys(args, [&](std::string_view key) { where.keys.emplace_back(key); });
  return where;
}

std::optional<std::vector<std::string_view>> only_command(std::string_view bytes) {
  std::vector<std::string_view> args;
  if (!next_command(bytes, args) || !bytes.empty()) return std::nullopt;
  return args;
}

std::vector<std::string_view> each_command(std::string_view bytes) {
  std::vector<std::string_view> commands;
  std::vector<std::string_view> args;
  while (!bytes.empty()) {
    const auto* start = bytes.data();
    if (!next_command(bytes, args)) return {};
    commands.emplace_back(start, static_cast<std::size_t>(bytes.data() - start));
  }
  return commands;
}

}  // namespace routemq::redis
