// The test support code itself, against the real programs: if these fail, no other integration test
// can be trusted.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("redis-server starts, answers, restarts on the same port and is killed for real") {
  RedisServer redis;
  const auto port = redis.port();
  CHECK_FALSE(port_accepts(port));
  redis.start();
  CHECK(redis.command({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(redis.command({"GET", "k"}) == "$1\r\nv\r\n");
  CHECK(redis.command({"GET", "missing"}) == "$-1\r\n");
  CHECK(redis.command({"RPUSH", "l", "a", "b"}) == ":2\r\n");
  CHECK(redis.command({"LRANGE", "l", "0", "-1"}) == "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  redis.kill9();
  CHECK_FALSE(redis.running());
  CHECK_FALSE(port_accepts(port));
  redis.restart();
  CHECK(redis.port() == port);
  CHECK(redis.command({"PING"}) == "+PONG\r\n");
  CHECK(redis.command({"GET", "k"}) == "$-1\r\n");  // no persistence
}

TEST_CASE("a paused redis-server accepts connections but does not answer") {
  RedisServer redis;
  redis.start();
  redis.pause();
  CHECK_THROWS_WITH(redis.command({"PING"}, 200ms), Catch::Contains("no reply"));
  redis.resume();
  CHECK(redis.command({"PING"}) == "+PONG\r\n");
}

TEST_CASE("redis-server with a password and with an ACL user") {
  RedisServer with_password({.password = "s3cret"});
  with_password.start();
  CHECK(with_password.command({"PING"}) == "+PONG\r\n");
  RedisServer with_user({.password = "pw", .username = "app"});
  with_user.start();
  CHECK(with_user.command({"ACL", "WHOAMI"}) == "$3\r\napp\r\n");
}

TEST_CASE("mosquitto round trips at QoS 0 and 1 with MQTT 5 properties, and restarts on its port") {
  MosquittoServer broker;
  broker.start();
  MqttProbe subscriber;
  subscriber.connect(broker.port());
  subscriber.subscribe("t/#", 1);
  MqttProbe publisher;
  publisher.connect(broker.port());
  publisher.publish("t/0", "zero", 0);
  publisher.publish("t/1", "one", 1, false,
                    {.response_topic = "r/1", .correlation_data = "c1", .user_properties = {{"k", "v"}}});
  REQUIRE(subscriber.wait_count([](const ReceivedMessage&) { return true; }, 2, 10s) == 2);
  auto one = subscriber.wait_for_topic("t/1", 1s);
  REQUIRE(one);
  CHECK(one->payload == "one");
  CHECK(one->qos == 1);
  CHECK(one->response_topic == "r/1");
  CHECK(one->correlation_data == "c1");
  CHECK(one->user_properties == std::vector<std::pair<std::string, std::string>>{{"k", "v"}});
  CHECK(subscriber.wait_for_topic("t/0", 1s)->payload == "zero");

  const auto port = broker.port();
  broker.kill9();
  CHECK_FALSE(port_accepts(port));
  broker.start();
  CHECK(broker.port() == port);
  MqttProbe again;
  again.connect(port);
  CHECK(again.connected());
}

TEST_CASE("child processes report exit codes and are stopped even when they ignore SIGTERM") {
  auto ok = ChildProcess::spawn({"sh", "-c", "echo hello; exit 3"});
  REQUIRE(ok.wait_exit(10s));
  CHECK(ok.exit_code().value_or(-1) == 3);
  CHECK(ok.log_text() == "hello\n");

  auto stubborn = ChildProcess::spawn({"sh", "-c", "trap '' TERM; echo ready; sleep 30"});
  REQUIRE(wait_until([&] { return stubborn.log_text() == "ready\n"; }, 10s));  // the trap is set
  const auto started = std::chrono::steady_clock::now();
  stubborn.stop(300ms);
  CHECK_FALSE(stubborn.running());
  CHECK(stubborn.exit_code().value_or(-1) == 128 + SIGKILL);
  CHECK(std::chrono::steady_clock::now() - started < 10s);

  CHECK_THROWS_WITH(ChildProcess::spawn({"/nonexistent/program"}), Catch::Contains("cannot start"));
}

namespace {

// True while `pid` is a live process; a zombie (killed, not yet reaped by whoever inherited it) is dead.
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  const auto state_at = text.rfind(')') + 2;  // "pid (name) S ...": the name may hold spaces
  return state_at < text.size() && text[state_at] != 'Z';
}

// Runs this test executable's hidden holder case (below): a test process that starts a redis-server
// and a mosquitto, prints their PIDs, and waits to be killed. Returns the holder and the two PIDs.
std::pair<ChildProcess, std::vector<pid_t>> start_holder() {
  const auto self = std::filesystem::read_symlink("/proc/self/exe").string();
  auto holder = ChildProcess::spawn({self, "a test process holding servers until it is killed"},
                                    {{"ROUTEMQ_TEST_HOLDER", "1"}});
  std::vector<pid_t> pids;
  REQUIRE(wait_until(
      [&] {
        std::istringstream lines(holder.log_text());
        pids.clear();
        for (std::string line; std::getline(lines, line);)
          if (line.rfind("server pid ", 0) == 0) pids.push_back(std::stoi(line.substr(11)));
        return pids.size() == 2;
      },
      20s, 20ms));
  return {std::move(holder), pids};
}

}  // namespace

// Not discovered by CTest (hidden): run by the test below as a separate process.
TEST_CASE("a test process holding servers until it is killed", "[.holder]") {
  if (!std::getenv("ROUTEMQ_TEST_HOLDER")) return;  // run by hand: nothing to hold
  RedisServer redis;
  redis.start();
  MosquittoServer broker;
  broker.start();
  std::cout << "server pid " << redis.pid() << "\nserver pid " << broker.pid() << std::endl;
  std::this_thread::sleep_for(60s);  // killed long before
}

TEST_CASE("servers die with a test process killed by a signal or aborted, which runs no destructor") {
  for (const int signal_number : {SIGKILL, SIGABRT, SIGSEGV}) {
    CAPTURE(signal_number);
    auto [holder, pids] = start_holder();
    for (const auto pid : pids) CHECK(process_alive(pid));
    holder.signal(signal_number);
    REQUIRE(holder.wait_exit(20s));
    for (const auto pid : pids) CHECK(wait_until([&] { return !process_alive(pid); }, 10s));
  }
}

TEST_CASE("a child's extra environment reaches it, and a running child reports no exit code") {
  auto child = ChildProcess::spawn({"sh", "-c", "echo \"$ROUTEMQ_PROBE_VALUE\"; exec sleep 30"},
                                   {{"ROUTEMQ_PROBE_VALUE", "forty-two"}});
  REQUIRE(wait_until([&] { return child.log_text() == "forty-two\n"; }, 10s));
  CHECK(child.running());
  CHECK_FALSE(child.exit_code());
  child.stop();
  CHECK(child.exit_code().value_or(-1) == 128 + SIGTERM);
}

TEST_CASE("mosquitto with a password file refuses anonymous clients and accepts the user") {
  MosquittoServer broker({.username = "device", .password = "pa55"});
  broker.start();
  MqttProbe anonymous;
  CHECK_THROWS(anonymous.connect(broker.port()));
  MqttProbe user;
  user.connect(broker.port(), "device", "pa55");
  user.subscribe("echo", 1);
  user.publish("echo", "hi", 1);
  REQUIRE(user.wait_for_topic("echo", 10s));
}

TEST_CASE("servers can be given their port, and a dead server's port is refused") {
  const auto port = free_port();
  RedisServer redis({.port = port});
  CHECK(redis.port() == port);
  redis.start();
  CHECK(port_accepts(port));
  redis.stop();
  CHECK_FALSE(redis.running());
  CHECK_THROWS_WITH(redis.command({"PING"}), Catch::Contains("refused"));
}
