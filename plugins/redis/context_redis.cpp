// Context::redis() lives with the plugin so that core never depends on it.
#include "core/handling/context.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq {

redis::RedisManager& Context::redis() const {
  // The app's manager when the plugin is in; otherwise the process-wide one (disabled: no-ops).
  if (auto* manager = services().find<redis::RedisManager>()) return *manager;
  return redis::redis_manager();
}

}  // namespace routemq
