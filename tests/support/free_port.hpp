#pragma once
// Loopback ports for private test servers.
#include <cstdint>

#include <netinet/in.h>

namespace routemq::test {

// 127.0.0.1:port, for bind() and connect().
sockaddr_in loopback_address(std::uint16_t port);

// A port the kernel just handed out on 127.0.0.1 (bound, read, closed): free unless someone races us.
std::uint16_t free_port();

// A socket listening on 127.0.0.1 at a port the kernel picks (written to `port`), for in-process test
// servers; throws std::runtime_error naming `who` when it cannot.
int listen_on_loopback(std::uint16_t& port, const char* who);

// True when a TCP connect to 127.0.0.1:port succeeds right now.
bool port_accepts(std::uint16_t port);

}  // namespace routemq::test
