#pragma once
// Where and how a Transport (transport.hpp) connects: TCP host and port or a unix socket, and TLS
// over TCP when a context is given. The context is built once (make_tls_context, tls_context.hpp)
// and shared by every connection made with it.
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace routemq::net {

// TCP keepalive: an idle connection is probed, so one whose peer vanished (a host down, a NAT or
// firewall that forgot it) is found dead and dropped instead of waiting forever. Unset numbers are
// the system's (net.ipv4.tcp_keepalive_time, _intvl, _probes). Unix sockets have none.
struct TcpKeepalive {
  bool enabled = false;
  int idle_s = 0;      // seconds idle before the first probe (TCP_KEEPIDLE); 0: the system's
  int interval_s = 0;  // seconds between probes (TCP_KEEPINTVL); 0: the system's
  int count = 0;       // unanswered probes before the connection is dropped (TCP_KEEPCNT); 0: the system's
};

struct TransportOptions {
  std::string host = "localhost";
  int port = 0;
  std::string socket_path;  // a unix socket instead of host and port
  std::shared_ptr<boost::asio::ssl::context> tls_context;  // null: plaintext
  std::string server_name;  // SNI and the name the certificate must carry; empty: the host
  bool verify = true;       // check the server's certificate and name (the context must agree)
  TcpKeepalive keepalive;   // set on each TCP connection
  // How TLS failures name the caller's settings and server, so a user knows what to change
  // (tls_failure, tls_context.hpp): the settings' prefix ("mqtt.tls" gives "mqtt.tls.ca_file"), and
  // what to say when the server answers the handshake in plaintext.
  std::string tls_setting = "tls";
  std::string not_tls_hint = "a plaintext port?";
};

}  // namespace routemq::net
