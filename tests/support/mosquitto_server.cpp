#include "tests/support/mosquitto_server.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"

namespace routemq::test {
namespace {

std::string program(const std::string& installed, const std::string& name) {
  return std::filesystem::exists(installed) ? installed : name;
}

// Run as root, mosquitto switches to user "mosquitto", which cannot read our private (0700) directory:
// tell it to stay who we are.
std::string current_user() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry ? entry->pw_name : "root";
}

}  // namespace

MosquittoServer::MosquittoServer(MosquittoOptions options)
    : server_("mosquitto", options.port ? options.port : free_port()), options_(std::move(options)) {}

void MosquittoServer::start() {
  const bool secured = !options_.username.empty();
  if (secured) write_password_file();
  const auto conf = server_.dir() / "mosquitto.conf";
  {
    std::ofstream out(conf);
    out << "user " << current_user() << "\n"
        << "listener " << port() << " 127.0.0.1\n"
        << "allow_anonymous " << (secured ? "false" : "true") << "\n"
        << "max_inflight_messages 0\n"
        << "max_queued_messages 100000\n"
        << "persistence false\n"
        << "log_dest stderr\n"
        << "log_type error\nlog_type warning\nlog_type notice\n";
    if (secured) out << "password_file " << (server_.dir() / "passwd").string() << "\n";
    for (const auto& line : options_.extra_config) out << line << "\n";
  }
  server_.start({program("/usr/sbin/mosquitto", "mosquitto"), "-c", conf.string()},
                [this] { return port_accepts(port()); });
}

void MosquittoServer::restart() {
  stop();
  start();
}

void MosquittoServer::write_password_file() const {
  const auto file = server_.dir() / "passwd";
  auto tool = ChildProcess::spawn({program("/usr/bin/mosquitto_passwd", "mosquitto_passwd"), "-c", "-b",
                                   file.string(), options_.username, options_.password});
  if (!tool.wait_exit(std::chrono::seconds(10)) || tool.exit_code() != 0)
    throw std::runtime_error("mosquitto_passwd failed:\n" + tool.log_text());
}

}  // namespace routemq::test
