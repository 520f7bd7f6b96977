#include "core/routing/shared_subscription.hpp"

#include "core/routing/topic_pattern.hpp"

namespace routemq {

std::optional<SharedFilter> split_shared(std::string_view filter) {
  constexpr std::string_view prefix = "$share/";
  if (!filter.starts_with(prefix)) {
    if (filter == "$share") throw PatternError("shared subscription '$share' has no group and no filter");
    return std::nullopt;
  }
  const auto rest = filter.substr(prefix.size());
  const auto slash = rest.find('/');
  const auto group = rest.substr(0, slash);
  auto fail = [&](std::string_view why) {
    throw PatternError("shared subscription '" + std::string(filter) + "': " + std::string(why));
  };
  if (group.empty()) fail("the group name is empty");
  if (group.find_first_of("+#") != std::string_view::npos) fail("the group name must not contain '+' or '#'");
  if (slash == std::string_view::npos || slash + 1 == rest.size()) fail("no topic filter after the group");
  return SharedFilter{std::string(group), std::string(rest.substr(slash + 1))};
}

std::string shared_filter(std::string_view group, std::string_view filter) {
  return "$share/" + std::string(group) + "/" + std::string(filter);
}

}  // namespace routemq
