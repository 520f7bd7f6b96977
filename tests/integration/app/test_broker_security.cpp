// The app against brokers that want more than an anonymous MQTT 5 client: credentials, MQTT 3.1.1,
// and TLS with a verified certificate (a private CA made with the openssl tool).
#include <catch2/catch.hpp>

#include <cstdlib>

#include <fmt/format.h>

#include "routes/routes.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/temp_dir.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Telemetry in, ack out: the example route through whatever the broker demands of the app.
void check_telemetry_acked(MqttProbe& probe) {
  probe.subscribe("devices/+/ack", 1);
  probe.publish("devices/s1/telemetry", R"({"msg_id":"sec","value":1})", 1);
  auto ack = probe.wait_for_topic("devices/s1/ack", 10s);
  REQUIRE(ack);
  CHECK_THAT(ack->payload, Catch::Contains("\"msg_id\":\"sec\""));
}

// A CA and a server certificate for 127.0.0.1, written into `dir`.
void make_certificates(const TempDir& dir) {
  const auto d = dir.path().string();
  const std::string script = fmt::format(
      "cd '{}' && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=routemq-test-ca -days 2 && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
      "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
      "-extfile san.ext",
      d);
  REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
}

}  // namespace

TEST_CASE("the app authenticates with a username and password, a wrong password never connects", "[mqtt]") {
  MosquittoServer broker({.username = "svc", .password = "s3cret"});
  broker.start();
  App app(app_config_for(broker.port(), "", {{"MQTT_USERNAME", "svc"}, {"MQTT_PASSWORD", "s3cret"}}), Environment());
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port(), "svc", "s3cret");
  check_telemetry_acked(probe);

  App refused(app_config_for(broker.port(), "", {{"MQTT_USERNAME", "svc"}, {"MQTT_PASSWORD", "wrong"}}), Environment());
  example::add_routes(refused);
  RunningApp refused_running(refused);
  CHECK_FALSE(wait_until([&] { return refused.mqtt_connected(); }, 2s));
}

TEST_CASE("the app speaks MQTT 3.1.1 too", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port(), "", {{"MQTT_VERSION", "3"}}), Environment());
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port());
  check_telemetry_acked(probe);
}

TEST_CASE("the app connects over TLS, verifying the broker's certificate against the configured CA", "[mqtt]") {
  TempDir certificates;
  make_certificates(certificates);
  const auto plain_port = free_port();  // the probe's own, unencrypted listener on the same broker
  const auto dir = certificates.path().string();
  MosquittoServer broker({.extra_config = {"cafile " + dir + "/ca.crt", "certfile " + dir + "/server.crt",
                                           "keyfile " + dir + "/server.key",
                                           fmt::format("listener {} 127.0.0.1", plain_port)}});
  broker.start();
  App app(app_config_for(broker.port(), "",
                         {{"MQTT_TLS_ENABLED", "true"}, {"MQTT_TLS_CA_FILE", dir + "/ca.crt"}, {"MQTT_TLS_VERIFY", "true"}}),
          Environment());
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(plain_port);
  check_telemetry_acked(probe);

  // Another CA: the broker's certificate is refused, the app never connects.
  TempDir other;
  make_certificates(other);
  App untrusting(app_config_for(broker.port(), "",
                                {{"MQTT_TLS_ENABLED", "true"}, {"MQTT_TLS_CA_FILE", other.path().string() + "/ca.crt"}}),
                 Environment());
  example::add_routes(untrusting);
  RunningApp untrusting_running(untrusting);
  CHECK_FALSE(wait_until([&] { return untrusting.mqtt_connected(); }, 2s));
}
