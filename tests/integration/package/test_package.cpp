// routemq as its users get it: installed from this build to a private prefix, a service made by
// `routemq new` and built against it with find_package (its own tests pass against a real Redis, and
// it serves through a real mosquitto), the library as a subproject, and the .deb.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Finished {
  int exit_code;
  std::string output;
};

// Runs a command to its end (killed at the deadline) and returns its exit code and output.
Finished run(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
             std::chrono::milliseconds deadline = 10min) {
  auto process = ChildProcess::spawn(std::move(argv), std::move(env));
  if (!process.wait_exit(deadline)) process.stop();
  return {process.exit_code().value_or(-1), process.log_text()};
}

#define REQUIRE_SUCCEEDS(finished)            \
  do {                                        \
    const auto& done_ = (finished);           \
    INFO(done_.output);                       \
    REQUIRE(done_.exit_code == 0);            \
  } while (false)

// The folder of every case's files, and of the one install they share: ccache_env makes paths
// relative to it, so the next run's compiles of the same files hit the cache whatever its name.
const fs::path& workspace() {
  static TempDir root;
  return root.path();
}

// What `cmake --install build --prefix P` makes, once per process.
const fs::path& installed_prefix() {
  static const fs::path prefix = [] {
    const auto path = workspace() / "prefix";
    REQUIRE_SUCCEEDS(run({"cmake", "--install", build_dir(), "--prefix", path.string()}));
    return path;
  }();
  return prefix;
}

// The consumer's compiles go through ccache when it is installed, as ours do.
std::vector<std::string> configure_command(const fs::path& source) {
  std::vector<std::string> command{"cmake", "-S", source.string(), "-B", (source / "build").string(),
                                   "-DCMAKE_PREFIX_PATH=" + installed_prefix().string()};
  if (run({"sh", "-c", "command -v ccache"}, {}, 10s).exit_code == 0) command.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache");
  return command;
}

const std::map<std::string, std::string> ccache_env{{"CCACHE_BASEDIR", workspace().string()}, {"CCACHE_NOHASHDIR", "true"}};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("package: a service made by `routemq new --redis --docker` builds with find_package, passes its tests against a real Redis, and serves") {
  const auto prefix = installed_prefix();
  CHECK(fs::exists(prefix / "include/routemq/routemq.hpp"));
  CHECK(fs::exists(prefix / "lib/cmake/routemq/routemqConfigVersion.cmake"));
  const auto project = workspace() / "greenhouse";
  REQUIRE_SUCCEEDS(run({(prefix / "bin/routemq").string(), "new", "greenhouse", "--redis", "--docker", "--dir", project.string()}));
  CHECK(read_file(project / "CMakeLists.txt").find("find_package(routemq 0.2 CONFIG REQUIRED)") != std::string::npos);

  const auto env = ccache_env;
  REQUIRE_SUCCEEDS(run(configure_command(project), env));
  REQUIRE_SUCCEEDS(run({"cmake", "--build", (project / "build").string(), "-j2"}, env));

  RedisServer redis;
  redis.start();
  auto with_redis = env;
  with_redis.insert({{"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(redis.port())}});
  const auto tests = run({"ctest", "--test-dir", (project / "build").string(), "--output-on-failure", "-V"}, with_redis);
  INFO(tests.output);
  REQUIRE(tests.exit_code == 0);
  CHECK(tests.output.find("not run") == std::string::npos);  // the Redis case ran

  MosquittoServer broker;
  broker.start();
  const auto metrics_port = free_port();
  auto service = ChildProcess::spawn({(project / "build/greenhouse").string(), "run", "--config", (project / "config/app.yaml").string()},
                                     {{"MQTT_BROKER", "127.0.0.1"}, {"MQTT_PORT", std::to_string(broker.port())},
                                      {"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(redis.port())},
                                      {"METRICS_PORT", std::to_string(metrics_port)}});
  if (!wait_until([&] { return http_get(metrics_port, "/ready", "GET", 1s).status == 200; }, 20s))
    FAIL("the service did not get ready:\n" << service.log_text());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("greetings/+/reply", 1);
  probe.subscribe("sensors/+/ack", 1);
  probe.publish("greetings/ada", R"({"text": "welcome"})", 1);
  const auto reply = probe.wait_for_topic("greetings/ada/reply", 10s);
  REQUIRE(reply);
  CHECK(nlohmann::json::parse(reply->payload)["greeting"] == "Hello, ada: welcome");
  probe.publish("sensors/s1/reading", R"({"msg_id": "m1", "value": 21.5})", 1);
  const auto ack = probe.wait_for_topic("sensors/s1/ack", 10s);
  REQUIRE(ack);
  CHECK(nlohmann::json::parse(ack->payload)["count"] == 1);
  CHECK(redis.command({"HGET", "greenhouse:sensor:s1", "last_value"}) == "$4\r\n21.5\r\n");
  // config/app.yaml's dedupe, kept in Redis: a repeated msg_id is not handled again, the next one is.
  probe.publish("sensors/s1/reading", R"({"msg_id": "m1", "value": 99})", 1);
  probe.publish("sensors/s1/reading", R"({"msg_id": "m2", "value": 22})", 1);
  const auto next = probe.wait_for([](const ReceivedMessage& m) { return m.topic == "sensors/s1/ack" && m.payload.find("m2") != std::string::npos; }, 10s);
  REQUIRE(next);
  CHECK(nlohmann::json::parse(next->payload)["count"] == 2);
  const auto received = probe.messages();  // the readings of a sensor are handled in order: the repeat came before m2
  CHECK(std::count_if(received.begin(), received.end(), [](const ReceivedMessage& m) { return m.topic == "sensors/s1/ack"; }) == 2);
  service.stop();
  CHECK(service.exit_code() == 0);

  // Its compose file is valid (no Docker engine runs here to start it).
  if (run({"sh", "-c", "command -v docker-compose"}, {}, 10s).exit_code == 0)
    REQUIRE_SUCCEEDS(run({"docker-compose", "-f", (project / "docker-compose.yml").string(), "config", "-q"}));
}

TEST_CASE("package: a service made by `routemq new` without Redis configures against the package") {
  const auto project = workspace() / "plain";
  REQUIRE_SUCCEEDS(run({(installed_prefix() / "bin/routemq").string(), "new", "plain", "--dir", project.string()}));
  CHECK_FALSE(fs::exists(project / "Dockerfile"));
  CHECK(read_file(project / "config/app.yaml").find("enabled: false") != std::string::npos);
  REQUIRE_SUCCEEDS(run(configure_command(project), ccache_env, 2min));
  // A second `new` into the same place refuses and writes nothing.
  const auto again = run({(installed_prefix() / "bin/routemq").string(), "new", "plain", "--dir", project.string()});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.output, Catch::Contains("already exists"));
}

TEST_CASE("package: as a subproject, routemq brings its targets and leaves out its tests, benchmarks and tool") {
  TempDir root;
  std::ofstream(root / "CMakeLists.txt") << "cmake_minimum_required(VERSION 3.22)\n"
                                            "project(consumer LANGUAGES CXX)\n"
                                            "add_subdirectory(" << source_path("") << " routemq)\n"
                                            "foreach(target routemq::routemq routemq::testing routemq_core)\n"
                                            "  if(NOT TARGET ${target})\n    message(FATAL_ERROR \"no ${target}\")\n  endif()\n"
                                            "endforeach()\n"
                                            "foreach(target routemq test_unit_routing bench_redis)\n"
                                            "  if(TARGET ${target})\n    message(FATAL_ERROR \"${target} was built\")\n  endif()\n"
                                            "endforeach()\n";
  REQUIRE_SUCCEEDS(run({"cmake", "-S", root.path().string(), "-B", (root / "build").string()}, {}, 2min));
}

TEST_CASE("package: the .deb names the Debian packages it depends on") {
  TempDir root;
  REQUIRE_SUCCEEDS(run({"cpack", "-G", "DEB", "--config", build_dir() + "/CPackConfig.cmake", "-B", root.path().string()},
                       {}, 5min));
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(root.path()))
    if (entry.path().extension() == ".deb") deb = entry.path();
  REQUIRE_FALSE(deb.empty());
  const auto depends = run({"dpkg-deb", "--field", deb.string(), "Depends"});
  REQUIRE(depends.exit_code == 0);
  for (const auto* package : {"libpaho-mqttpp3-1", "libyaml-cpp0.7", "libssl3",  // what the tool links
                              "libpaho-mqttpp-dev", "nlohmann-json3-dev", "libboost-dev"})  // find_package's
    CHECK_THAT(depends.output, Catch::Contains(package));
  CHECK_THAT(depends.output, !Catch::Contains("hiredis"));  // RESP is our own code: only tests use hiredis
  const auto contents = run({"dpkg-deb", "--contents", deb.string()});
  CHECK_THAT(contents.output, Catch::Contains("./usr/lib/cmake/routemq/routemqConfig.cmake") &&
                                  Catch::Contains("./usr/bin/routemq") && Catch::Contains("./usr/include/routemq/routemq.hpp"));
}
