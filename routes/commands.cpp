// devices/{device_id}/commands/{command}: one command at a time per device, across every instance
// (middleware lock keyed by device), counted in the device's session (middleware session keyed by
// device; both in config/app.yaml). The result goes to devices/{id}/commands/{command}/result:
//   {"command": "reboot", "count": 3, "fence": 17, "locked": true, "session_ephemeral": false}
// `count` is how often this device got this command (from its session); `fence` is the lock's fencing
// number, to hand to anything downstream that must reject stale writers. With Redis down the command
// still runs, unlocked (fence 0), with an ephemeral session (count 1, not kept), and says so.
#include <memory>

#include <nlohmann/json.hpp>

#include "middleware/lock.hpp"
#include "middleware/session.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"
#include "routes/routes.hpp"

namespace example {
namespace {

routemq::awaitable<void> handle_command(routemq::Context& ctx) {
  const auto& device = ctx.param("device_id");
  const auto& command = ctx.param("command");
  auto* lock = ctx.get(routemq::middleware::held_lock);
  auto* session = ctx.get(routemq::middleware::current_session);
  // Both middleware are configured in YAML; without them the command still answers.
  const long long count = session ? (*session)->incr("commands." + command) : 1;
  const bool locked = lock && (*lock)->acquired();
  if (locked && (*lock)->lost()) throw std::runtime_error("lost the device lock before answering; not answering");
  nlohmann::json result{{"command", command},
                        {"count", count},
                        {"fence", locked ? (*lock)->fence() : 0},
                        {"locked", locked},
                        {"session_ephemeral", !session || (*session)->ephemeral()}};
  ctx.publish("devices/" + device + "/commands/" + command + "/result", result, {.qos = 1});
  co_return;
}

}  // namespace

void add_commands_route(routemq::App& app) {
  // A device's commands in the order they were sent, whatever the command (the lock still guards
  // against other instances).
  app.route("devices/{device_id}/commands/{command}", handle_command)
      .name("commands")
      .qos(1)
      .shared()
      .ordered("{device_id}");
}

}  // namespace example
