#pragma once
// A key put together from its parts (the manager's prefix, a view's scope, the name) in a buffer of
// its own on the stack when it is short, as nearly every key is: GET and SET build their key once
// per command, and a std::string would allocate for any key past 15 bytes. Internal to plugins/redis/.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace routemq::redis {

class JoinedKey {
 public:
  JoinedKey(std::string_view prefix, std::string_view scope, std::string_view name)
      : size_(prefix.size() + scope.size() + name.size()) {
    char* at = size_ <= sizeof(short_) ? short_ : (long_.resize(size_), long_.data());
    for (const auto part : {prefix, scope, name}) at = std::copy(part.begin(), part.end(), at);
  }
  // Not copied or moved: view() points into it.
  JoinedKey(const JoinedKey&) = delete;
  JoinedKey& operator=(const JoinedKey&) = delete;

  std::string_view view() const { return {size_ <= sizeof(short_) ? short_ : long_.data(), size_}; }

 private:
  std::size_t size_;
  char short_[128];
  std::string long_;
};

}  // namespace routemq::redis
