#pragma once
// Loopback ports for private test servers.
#include <cstdint>

#include <netinet/in.h>

namespace routemq::test {

// 127.0.0.1:port, for bind() and connect().
sockaddr_in loopback_address(std::uint16_t port);

// A port free on 127.0.0.1 just now (bound and closed), below the kernel's ephemeral range, so an
// outgoing connection does not take it before our server binds it; free unless a test races us.
std::uint16_t free_port();

// A socket listening on 127.0.0.1 at a port the kernel picks (written to `port`), for in-process test
// servers; throws std::runtime_error naming `who` when it cannot.
int listen_on_loopback(std::uint16_t& port, const char* who);

// True when a TCP connect to 127.0.0.1:port succeeds right now.
bool port_accepts(std::uint16_t port);

}  // namespace routemq::test
