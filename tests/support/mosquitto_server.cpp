#include "tests/support/mosquitto_server.hpp"

#include <fstream>

#include "tests/support/free_port.hpp"

namespace routemq::test {

MosquittoServer::MosquittoServer(std::vector<std::string> extra_config)
    : server_("mosquitto", free_port()), extra_config_(std::move(extra_config)) {}

void MosquittoServer::start() {
  const auto conf = server_.dir() / "mosquitto.conf";
  {
    std::ofstream out(conf);
    out << "listener " << port() << " 127.0.0.1\n"
        << "allow_anonymous true\n"
        << "max_inflight_messages 0\n"
        << "max_queued_messages 100000\n"
        << "persistence false\n"
        << "log_dest stderr\n"
        << "log_type error\nlog_type warning\nlog_type notice\n";
    for (const auto& line : extra_config_) out << line << "\n";
  }
  const std::string mosquitto = std::filesystem::exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
  server_.start({mosquitto, "-c", conf.string()}, [this] { return port_accepts(port()); });
}

void MosquittoServer::restart() {
  stop();
  start();
}

}  // namespace routemq::test
