#pragma once
// Where a manager's or view's keys live: the prefix every key name gets (the manager's, then the
// view's scope), and whether keys are spread over a cluster's slots. The only way a key enters a
// Command (command.hpp), so a command cannot name a key outside its view, and its slot is known
// without reading the key back out of the encoded bytes.
//
// A KeySpace points into the manager's settings: make one per use (redis.key_space()), do not keep it.
#include <cstdint>
#include <string>
#include <string_view>

namespace routemq::redis {

class KeySpace {
 public:
  KeySpace(std::string_view prefix, std::string_view scope, bool cluster)
      : prefix_(prefix), scope_(scope), cluster_(cluster) {}

  // The stored name of `name`: prefix, scope, name.
  std::string key(std::string_view name) const {
    std::string full;
    full.reserve(size_of(name));
    full.append(prefix_).append(scope_).append(name);
    return full;
  }
  std::size_t size_of(std::string_view name) const { return prefix_.size() + scope_.size() + name.size(); }
  std::string_view prefix() const { return prefix_; }
  std::string_view scope() const { return scope_; }
  bool on_cluster() const { return cluster_; }

 private:
  std::string_view prefix_;
  std::string_view scope_;
  bool cluster_;
};

}  // namespace routemq::redis
