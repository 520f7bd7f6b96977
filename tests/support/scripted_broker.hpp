#pragma once
// A minimal MQTT broker inside the test process, for testing our client against a broker whose every
// move the test decides: it listens on a loopback port, takes one client connection at a time (a later
// one replaces it: a reconnect), decodes what the client sends with our own codec and records it, and
// answers the way a broker must unless told otherwise:
//   CONNECT      CONNACK as set_connack() says (session present, reason code, v5 limits)
//   SUBSCRIBE    SUBACK, granting min(requested QoS, the advertised Maximum QoS)
//   UNSUBSCRIBE  UNSUBACK;  PINGREQ  PINGRESP
//   PUBLISH      QoS 1 PUBACK, QoS 2 PUBREC; PUBREL  PUBCOMP (held while hold_acks(true): quota tests)
// A test sends anything else itself: send(packet), send_raw(bytes) (malformed input, a packet in pieces).
//
// It also judges the client against what it advertised, and records each breach as a sentence in
// violations(), which a test CHECKs is empty: a packet larger than Maximum Packet Size [MQTT-3.2.2-15],
// more unacknowledged QoS>0 PUBLISHes than Receive Maximum [MQTT-3.3.4-7] [MQTT-4.9.0-2], a Topic Alias
// of 0 or above Topic Alias Maximum [MQTT-3.3.2-8] [MQTT-3.3.2-9], a QoS above Maximum QoS
// [MQTT-3.2.2-11], RETAIN without Retain Available [MQTT-3.2.2-14], a packet id reused while still in
// flight [MQTT-2.2.1-3], a packet before CONNECT [MQTT-3.1.0-1], a malformed packet.
//
//   ScriptedBroker broker;
//   broker.set_connack({.properties = {.receive_maximum = 2, .maximum_packet_size = 256}});
//   ... app connects to broker.port() ...
//   broker.send(mqtt::Publish{.topic = "a/b", .payload = "x", .qos = 1, .packet_id = 1});
//   REQUIRE(broker.wait_for([](const auto& r) { return count_acks(r, mqtt::PacketType::puback) == 1; }, 5s));
//   CHECK(broker.violations().empty());
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/mqtt/protocol/packet.hpp"
#include "core/mqtt/protocol/packet_reader.hpp"

namespace routemq::test {

// One packet the client sent, on which connection (1 for the first accepted, 2 after a reconnect...)
// and its size on the wire. A PUBLISH that named its topic by alias only has the topic filled in.
struct ReceivedPacket {
  int connection = 0;
  mqtt::Packet packet;
  std::size_t size = 0;
};

class ScriptedBroker {
 public:
  ScriptedBroker();
  ~ScriptedBroker();
  ScriptedBroker(const ScriptedBroker&) = delete;
  ScriptedBroker& operator=(const ScriptedBroker&) = delete;

  std::uint16_t port() const { return port_; }

  // --- how it answers
  // The CONNACK of every later CONNECT (with 3.1.1 its properties are not sent). Default: success,
  // no session, no limits.
  void set_connack(mqtt::Connack connack);
  // Bytes written on the next connection just before its CONNACK (a broker breaking [MQTT-3.2.0-1]).
  void send_before_next_connack(std::string bytes);
  // While held, the acknowledgements of the client's publishes (PUBACK, PUBREC, PUBCOMP) wait, and the
  // client's send quota stays used; release_acks() sends them, in order. A held ack dies with its connection.
  void hold_acks(bool hold);
  void release_acks();
  std::size_t held_acks() const;

  // --- what the test sends: encoded for the connection's version (the client's CONNECT says which)
  void send(const mqtt::Packet& packet);
  void send_raw(std::string_view bytes);
  // Closes the connection under the client's feet, as a failing network would.
  void drop();

  // --- what the client did
  std::vector<ReceivedPacket> received() const;
  // Waits (on each packet and close) until `predicate` holds over received(); false at the deadline.
  bool wait_for(const std::function<bool(const std::vector<ReceivedPacket>&)>& predicate,
                std::chrono::milliseconds deadline) const;
  // Called on the broker's thread for each packet as it arrives: a test's chance to check what was
  // true at that moment (e.g. that a message was handled before its PUBACK came in).
  void on_packet(std::function<void(const ReceivedPacket&)> observer);
  int connections() const;                        // connections accepted so far
  bool connection_closed(int connection) const;   // the client closed it, or it was dropped
  mqtt::Version version() const;                  // of the latest CONNECT
  std::vector<std::string> violations() const;
  // The most unacknowledged QoS>0 PUBLISHes the client ever had at once: with a held ack and a
  // Receive Maximum of 2, 2 shows the client used its quota and kept to it.
  std::size_t max_client_in_flight() const;

  // The bytes of `packet` as `version` writes them (for send_raw and send_before_next_connack).
  static std::string encoded(const mqtt::Packet& packet, mqtt::Version version);

 private:
  struct Connection {
    int number = 0;
    int fd = -1;
    bool connected = false;  // CONNECT seen
    mqtt::Version version = mqtt::Version::v5;
    std::optional<mqtt::PacketReader> reader;
    std::string buffer;
    std::map<std::uint16_t, std::string> aliases;  // the client's topic aliases on this connection
    mqtt::Connack connack;                          // what we answered: the limits the client must keep
  };
  struct HeldAck {
    int connection = 0;
    mqtt::PublishAck ack;
  };

  void serve();
  bool take(Connection& connection, std::string_view bytes);  // false: close the connection
  void answer(Connection& connection, ReceivedPacket& record, std::string& out);
  void check_publish(Connection& connection, mqtt::Publish& publish, std::size_t size);
  void acknowledge(int connection, mqtt::PublishAck ack, std::string& out);  // under mutex_
  void close_connection(Connection& connection);
  void write(int connection, const std::string& bytes);
  void violation(std::string what);  // under mutex_

  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // The socket of the current connection, for writers on any thread; -1 when none.
  mutable std::mutex io_mutex_;
  int fd_ = -1;
  int fd_connection_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mqtt::Connack connack_;
  std::string before_connack_;
  bool hold_ = false;
  std::vector<HeldAck> held_;
  std::vector<ReceivedPacket> received_;
  std::function<void(const ReceivedPacket&)> observer_;
  int connections_ = 0;
  std::set<int> closed_;
  mqtt::Version version_ = mqtt::Version::v5;
  std::vector<std::string> violations_;
  // The client's QoS>0 publishes not yet acknowledged, by packet id (kept across a reconnect with a
  // session present, as the session is): the send quota they use.
  std::set<std::uint16_t> client_in_flight_;
  std::size_t max_client_in_flight_ = 0;
  std::uint16_t receive_maximum_ = 65535;  // of the current connection's CONNACK
};

// Helpers over received().
const mqtt::Publish* as_publish(const ReceivedPacket& packet);
// PUBLISHes the client sent (on `connection`, or on any when 0).
std::vector<mqtt::Publish> publishes(const std::vector<ReceivedPacket>& received, int connection = 0);
// The packet ids of the client's acks of one type (PUBACK, PUBREC...), in the order they arrived.
std::vector<std::uint16_t> acks(const std::vector<ReceivedPacket>& received, mqtt::PacketType type,
                                int connection = 0);
// The client's DISCONNECT on `connection`, if it sent one.
std::optional<mqtt::Disconnect> disconnect_of(const std::vector<ReceivedPacket>& received, int connection);
// Has the client sent a packet of this kind on `connection` (any when 0)?
template <class T>
bool has_packet(const std::vector<ReceivedPacket>& received, int connection = 0) {
  for (const auto& r : received)
    if ((connection == 0 || r.connection == connection) && std::holds_alternative<T>(r.packet)) return true;
  return false;
}

}  // namespace routemq::test
