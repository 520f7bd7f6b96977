#include "plugins/redis/cluster/slot_split.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "plugins/redis/cluster/hash_slot.hpp"

namespace routemq::redis {
namespace {

std::optional<SlotSplit::Merge> merge_for(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "mget") return SlotSplit::Merge::values_in_order;
  if (lower == "del" || lower == "unlink" || lower == "exists" || lower == "touch") return SlotSplit::Merge::sum;
  if (lower == "mset") return SlotSplit::Merge::all_ok;
  return std::nullopt;
}

}  // namespace

std::optional<SlotSplit> split_by_slot(const std::vector<std::string_view>& args) {
  if (args.size() < 2) return std::nullopt;
  const auto merge = merge_for(args[0]);
  if (!merge) return std::nullopt;
  const std::size_t stride = *merge == SlotSplit::Merge::all_ok ? 2 : 1;  // MSET: key, value
  if ((args.size() - 1) % stride != 0) return std::nullopt;  // a dangling key: let Redis say what is wrong
  SlotSplit split;
  split.merge = *merge;
  std::map<std::uint16_t, std::size_t> part_of_slot;
  for (std::size_t at = 1; at < args.size(); at += stride) {
    const auto slot = hash_slot(args[at]);
    auto [found, added] = part_of_slot.try_emplace(slot, split.parts.size());
    if (added) split.parts.push_back({slot, {std::string(args[0])}, {}});
    auto& part = split.parts[found->second];
    for (std::size_t i = 0; i < stride; ++i) part.args.emplace_back(args[at + i]);
    part.positions.push_back(split.keys++);
  }
  return split;
}

Reply merge_parts(const SlotSplit& split, const std::vector<Reply>& replies) {
  const auto error = std::find_if(replies.begin(), replies.end(), [](const Reply& r) { return r.is_error(); });
  if (error != replies.end()) return *error;
  switch (split.merge) {
    case SlotSplit::Merge::values_in_order: {
      std::vector<Reply> values(split.keys);
      for (std::size_t p = 0; p < split.parts.size() && p < replies.size(); ++p) {
        const auto& got = replies[p].elements;
        for (std::size_t i = 0; i < split.parts[p].positions.size() && i < got.size(); ++i)
          values[split.parts[p].positions[i]] = got[i];
      }
      return Reply::array(std::move(values));
    }
    case SlotSplit::Merge::sum: {
      long long total = 0;
      for (const auto& reply : replies) total += reply.integer;
      return Reply::number(total);
    }
    case SlotSplit::Merge::all_ok:
      return Reply::status("OK");
  }
  return Reply::nil();
}

}  // namespace routemq::redis
