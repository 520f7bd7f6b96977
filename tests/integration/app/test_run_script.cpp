// scripts/run.sh as a newcomer (or a supervisor) uses it: it starts its own mosquitto and redis-server,
// serves, and a SIGTERM sent to the script alone stops everything it started, the service included.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cerrno>

#include "tests/support/child_process.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// True once no process is left in the script's process group (ChildProcess starts it as a group
// leader, and run.sh's servers and service stay in it).
[[maybe_unused]] bool group_is_empty(pid_t group) { return ::kill(-group, 0) == -1 && errno == ESRCH; }

}  // namespace

TEST_CASE("run.sh sent SIGTERM stops the service and the servers it started") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // run.sh builds and runs the Release service of build/; a sanitizer stage would rebuild that folder
  // under its own tests. The Release stage runs this case.
  SUCCEED("Release stage only");
#else
  // No MQTT_BROKER or REDIS_HOST: the script starts its own servers. METRICS_PORT=0: any free port.
  auto script = ChildProcess::spawn({"bash", source_path("scripts/run.sh")},
                                    {{"BUILD_DIR", build_dir()}, {"METRICS_PORT", "0"}, {"MQTT_BROKER", ""},
                                     {"REDIS_HOST", ""}});
  const pid_t group = script.pid();
  // Serving: the service has subscribed through the script's mosquitto (the build step is a no-op
  // here, run after the Release build, but CMake's configure check takes a few seconds).
  REQUIRE(wait_until([&] { return script.log_text().find("subscribed to") != std::string::npos; }, 120s, 50ms));
  INFO(script.log_text());
  REQUIRE(script.log_text().find("started redis-server") != std::string::npos);

  script.signal(SIGTERM);  // the script alone, not its group: what `kill PID` or a supervisor does
  REQUIRE(script.wait_exit(30s));
  // Before the fix the service outlived the script, serving without its servers.
  const bool all_stopped = wait_until([&] { return group_is_empty(group); }, 10s, 20ms);
  if (!all_stopped) ::kill(-group, SIGKILL);  // leave nothing behind for the next test
  CHECK(all_stopped);
  CHECK(script.log_text().find("received signal 15") != std::string::npos);
#endif
}
