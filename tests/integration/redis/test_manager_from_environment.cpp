// The manager outside an app (seed 001's RedisManager() and the standalone redis_manager()) reads the
// same environment as the plugin: ENABLE_REDIS, REDIS_*, and a .env file in the working directory.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/redis_manager.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Variables set for one test and unset after it, whatever it set them from (the test or a .env file).
class EnvironmentForTest {
 public:
  using Variables = std::vector<std::pair<std::string, std::string>>;
  explicit EnvironmentForTest(const Variables& variables = {}) {
    for (const auto& [name, value] : variables) set(name, value);
  }
  ~EnvironmentForTest() {
    for (const auto& name : names_) ::unsetenv(name.c_str());
  }
  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    names_.push_back(name);
  }
  void will_unset(const std::string& name) { names_.push_back(name); }

 private:
  std::vector<std::string> names_;
};

// Everything logged while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::size_t count(const std::string& words) const {
    const auto all = text_.str();
    std::size_t found = 0;
    for (auto at = all.find(words); at != std::string::npos; at = all.find(words, at + 1)) ++found;
    return found;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace

TEST_CASE("RedisManager() reads ENABLE_REDIS and REDIS_* as the plugin does, and connects at initialize()") {
  RedisServer server;
  server.start();
  EnvironmentForTest environment({{"ENABLE_REDIS", "true"},
                                  {"REDIS_HOST", "127.0.0.1"},
                                  {"REDIS_PORT", std::to_string(server.port())},
                                  {"REDIS_KEY_PREFIX", "from-env:"}});
  redis::RedisManager r;
  CHECK(r.is_configured());
  CHECK(r.config().port == server.port());
  CHECK(r.key("a") == "from-env:a");
  REQUIRE(r.initialize());
  CHECK(r.run_sync(r.set("a", "1")));
  CHECK(r.run_sync(r.get("a")) == "1");
}

TEST_CASE("RedisManager() reads a .env in the working directory, the environment winning over it") {
  RedisServer server;
  server.start();
  TempDir dir;
  std::ofstream(dir.path() / ".env") << "ENABLE_REDIS=true\nREDIS_PORT=" << server.port()
                                     << "\nREDIS_HOST=127.0.0.1\nREDIS_KEY_PREFIX=from-file:\n";
  EnvironmentForTest environment(EnvironmentForTest::Variables{{"REDIS_KEY_PREFIX", "from-env:"}});
  for (const auto* from_file : {"ENABLE_REDIS", "REDIS_PORT", "REDIS_HOST"}) environment.will_unset(from_file);
  const auto before = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  redis::RedisManager r;
  std::filesystem::current_path(before);
  CHECK(r.is_configured());
  CHECK(r.config().port == server.port());
  CHECK(r.key("a") == "from-env:a");
  CHECK(r.initialize());
}

TEST_CASE("RedisManager() with ENABLE_REDIS unset says once that it is disabled, and every call is a no-op") {
  EnvironmentForTest environment;
  ::unsetenv("ENABLE_REDIS");
  LogCapture log;
  redis::RedisManager first;
  redis::RedisManager second;
  CHECK_FALSE(first.is_configured());
  CHECK_FALSE(first.run_sync(first.get("k")));
  CHECK(log.count("redis: disabled") == 1);
}

TEST_CASE("RedisManager() refuses an invalid variable, naming it") {
  EnvironmentForTest environment({{"ENABLE_REDIS", "true"}, {"REDIS_PORT", "not a port"}});
  CHECK_THROWS_WITH(redis::RedisManager(), Catch::Contains("REDIS_PORT"));
}

TEST_CASE("redis_manager() outside an app is configured from the environment and already connecting") {
  RedisServer server;
  server.start();
  EnvironmentForTest environment({{"ENABLE_REDIS", "true"},
                                  {"REDIS_HOST", "127.0.0.1"},
                                  {"REDIS_PORT", std::to_string(server.port())},
                                  {"REDIS_KEY_PREFIX", "singleton:"}});
  auto& r = redis::redis_manager();
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(r.run_sync(r.get("k")) == "v");
  CHECK(r.key("k") == "singleton:k");
}
