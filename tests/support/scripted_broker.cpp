#include "tests/support/scripted_broker.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/reason_code.hpp"
#include "tests/support/free_port.hpp"

namespace routemq::test {
namespace {

// The protocol's own ceiling (1.5.5 and 2.1.4): the broker decodes whatever the client sends, however
// large, so that a packet over the advertised maximum is recorded as a violation, not lost.
constexpr std::size_t scripted_any_size = 268'435'460;

// The fixed header of the packet at the start of `bytes`: its whole size, 0 while incomplete, or
// nullopt when the Remaining Length runs past four bytes (malformed, 1.5.5).
std::optional<std::size_t> scripted_packet_size(std::string_view bytes) {
  std::size_t remaining = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (bytes.size() <= i) return 0;
    const auto byte = static_cast<std::uint8_t>(bytes[i]);
    remaining |= static_cast<std::size_t>(byte & 0x7F) << (7 * (i - 1));
    if ((byte & 0x80) == 0) {
      const auto total = 1 + i + remaining;
      return bytes.size() >= total ? total : 0;
    }
  }
  return std::nullopt;
}

// The protocol level of a CONNECT (3.1.2.2): after the fixed header and the protocol name.
std::optional<mqtt::Version> scripted_connect_version(std::string_view packet) {
  std::size_t offset = 1;
  while (offset < packet.size() && (static_cast<std::uint8_t>(packet[offset]) & 0x80)) ++offset;
  ++offset;  // the last byte of the Remaining Length
  if (packet.size() < offset + 2) return std::nullopt;
  const auto name_length = (static_cast<std::size_t>(static_cast<std::uint8_t>(packet[offset])) << 8) |
                           static_cast<std::uint8_t>(packet[offset + 1]);
  const auto level_at = offset + 2 + name_length;
  if (packet.size() <= level_at) return std::nullopt;
  switch (static_cast<std::uint8_t>(packet[level_at])) {
    case 4: return mqtt::Version::v311;
    case 5: return mqtt::Version::v5;
    default: return std::nullopt;
  }
}

mqtt::PublishAck ack_of(mqtt::PacketType type, std::uint16_t packet_id) {
  mqtt::PublishAck ack;
  ack.type = type;
  ack.packet_id = packet_id;
  return ack;
}

}  // namespace

std::string ScriptedBroker::encoded(const mqtt::Packet& packet, mqtt::Version version) {
  std::string out;
  mqtt::encode(packet, version, out);
  return out;
}

ScriptedBroker::ScriptedBroker() {
  listener_ = listen_on_loopback(port_, "ScriptedBroker");
  thread_ = std::thread([this] { serve(); });
}

ScriptedBroker::~ScriptedBroker() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listener_);
}

// --- the broker's thread: one connection at a time; a new one replaces the old (the client reconnected)
void ScriptedBroker::serve() {
  std::optional<Connection> current;
  int accepted = 0;
  while (!stopping_) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    if (current) fds.push_back({current->fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 50) <= 0) continue;  // 50 ms: notices stopping_
    // The old connection first: its last packets (a DISCONNECT) and its close come before the new one.
    if (current && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buffer[65536];
      const auto got = ::recv(current->fd, buffer, sizeof buffer, 0);
      if (got <= 0 || !take(*current, std::string_view(buffer, static_cast<std::size_t>(got)))) {
        close_connection(*current);
        current.reset();
      }
    }
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      if (current) {
        close_connection(*current);
        current.reset();
      }
      current.emplace();
      current->number = ++accepted;
      current->fd = fd;
      {
        std::lock_guard io(io_mutex_);
        fd_ = fd;
        fd_connection_ = current->number;
      }
      std::lock_guard lock(mutex_);
      connections_ = accepted;
      changed_.notify_all();
    }
  }
  if (current) close_connection(*current);
}

// Splits what arrived into packets, decodes, records and answers each; false: close the connection.
bool ScriptedBroker::take(Connection& connection, std::string_view bytes) {
  connection.buffer.append(bytes);
  while (!connection.buffer.empty()) {
    const auto size = scripted_packet_size(connection.buffer);
    if (!size) {
      std::lock_guard lock(mutex_);
      violation(fmt::format("connection {}: a Remaining Length of more than four bytes (1.5.5)", connection.number));
      return false;
    }
    if (*size == 0) return true;  // more to come
    const std::string bytes_of_packet = connection.buffer.substr(0, *size);
    connection.buffer.erase(0, *size);

    if (!connection.reader) {
      const auto type = static_cast<std::uint8_t>(bytes_of_packet[0]) >> 4;
      const auto version = type == 1 ? scripted_connect_version(bytes_of_packet) : std::nullopt;
      if (!version) {
        std::lock_guard lock(mutex_);
        violation(fmt::format("connection {}: the first packet is not a CONNECT of MQTT 3.1.1 or 5 (packet type {}) "
                              "[MQTT-3.1.0-1]",
                              connection.number, type));
        return false;
      }
      connection.version = *version;
      connection.reader.emplace(*version, scripted_any_size);
    }
    connection.reader->feed(bytes_of_packet);
    auto packet = connection.reader->next();
    if (!packet) {
      std::lock_guard lock(mutex_);
      violation(fmt::format("connection {}: the client sent a malformed packet: {}", connection.number,
                            connection.reader->failed() ? connection.reader->error().what : "incomplete"));
      return false;
    }

    ReceivedPacket record{connection.number, std::move(*packet), *size};
    std::function<void(const ReceivedPacket&)> observer;
    {
      std::lock_guard lock(mutex_);
      std::string out;
      answer(connection, record, out);
      received_.push_back(record);
      observer = observer_;
      // Written under mutex_, so that acks leave in the order they were decided (release_acks too).
      if (!out.empty()) write(connection.number, out);
      changed_.notify_all();
    }
    if (observer) observer(record);
  }
  return true;
}

// Under mutex_: the broker's side of the protocol, and the checks of the client's packets.
void ScriptedBroker::answer(Connection& connection, ReceivedPacket& record, std::string& out) {
  const auto version = connection.version;
  const auto number = connection.number;
  auto& packet = record.packet;
  if (auto* connect = std::get_if<mqtt::Connect>(&packet)) {
    if (connection.connected) {
      violation(fmt::format("connection {}: a second CONNECT [MQTT-3.1.0-2]", number));
      return;
    }
    connection.connected = true;
    connection.connack = connack_;
    version_ = version;
    (void)connect;
    // Without a session, nothing of the last connection is still in flight [MQTT-3.2.2-5].
    if (!connack_.session_present) client_in_flight_.clear();
    receive_maximum_ =
        version == mqtt::Version::v5 ? connack_.properties.receive_maximum.value_or(65535) : std::uint16_t{65535};
    out += std::exchange(before_connack_, {});
    mqtt::encode(connack_, version, out);
  } else if (auto* publish = std::get_if<mqtt::Publish>(&packet)) {
    check_publish(connection, *publish, record.size);
    if (publish->qos == 1) acknowledge(number, ack_of(mqtt::PacketType::puback, publish->packet_id), out);
    if (publish->qos == 2) acknowledge(number, ack_of(mqtt::PacketType::pubrec, publish->packet_id), out);
  } else if (auto* ack = std::get_if<mqtt::PublishAck>(&packet)) {
    if (ack->type == mqtt::PacketType::pubrel) acknowledge(number, ack_of(mqtt::PacketType::pubcomp, ack->packet_id), out);
    // The client's PUBREC of a QoS 2 message we sent: release it (4.3.3).
    if (ack->type == mqtt::PacketType::pubrec && ack->reason_code < 0x80)
      mqtt::encode(ack_of(mqtt::PacketType::pubrel, ack->packet_id), version, out);
  } else if (auto* subscribe = std::get_if<mqtt::Subscribe>(&packet)) {
    const std::uint8_t maximum_qos =
        version == mqtt::Version::v5 ? connection.connack.properties.maximum_qos.value_or(2) : std::uint8_t{2};
    mqtt::Suback suback;
    suback.packet_id = subscribe->packet_id;
    for (const auto& topic : subscribe->topics) suback.reason_codes.push_back(std::min(topic.qos, maximum_qos));
    mqtt::encode(suback, version, out);
  } else if (auto* unsubscribe = std::get_if<mqtt::Unsubscribe>(&packet)) {
    mqtt::Unsuback unsuback;
    unsuback.packet_id = unsubscribe->packet_id;
    if (version == mqtt::Version::v5) unsuback.reason_codes.assign(unsubscribe->filters.size(), mqtt::reason::success);
    mqtt::encode(unsuback, version, out);
  } else if (std::holds_alternative<mqtt::Pingreq>(packet)) {
    mqtt::encode(mqtt::Pingresp{}, version, out);
  } else if (std::holds_alternative<mqtt::Connack>(packet) || std::holds_alternative<mqtt::Suback>(packet) ||
             std::holds_alternative<mqtt::Unsuback>(packet) || std::holds_alternative<mqtt::Pingresp>(packet)) {
    violation(fmt::format("connection {}: the client sent a server's packet", number));
  }
}

// Under mutex_: a PUBLISH against the limits this connection's CONNACK advertised.
void ScriptedBroker::check_publish(Connection& connection, mqtt::Publish& publish, std::size_t size) {
  const auto number = connection.number;
  const auto& limits = connection.connack.properties;
  const bool v5 = connection.version == mqtt::Version::v5;
  if (v5 && limits.maximum_packet_size && size > *limits.maximum_packet_size)
    violation(fmt::format("connection {}: a PUBLISH of {} bytes to '{}', above the Maximum Packet Size {} "
                          "[MQTT-3.2.2-15]",
                          number, size, publish.topic, *limits.maximum_packet_size));
  if (const auto alias = publish.properties.topic_alias) {
    const auto maximum = limits.topic_alias_maximum.value_or(0);
    if (*alias == 0 || *alias > maximum)
      violation(fmt::format("connection {}: Topic Alias {} with a Topic Alias Maximum of {} [MQTT-3.3.2-8] "
                            "[MQTT-3.3.2-9]",
                            number, *alias, maximum));
    if (!publish.topic.empty()) {
      connection.aliases[*alias] = publish.topic;
    } else if (auto known = connection.aliases.find(*alias); known != connection.aliases.end()) {
      publish.topic = known->second;  // recorded with its topic: tests look for topics
    } else {
      violation(fmt::format("connection {}: Topic Alias {} used before it was set (3.3.2.3.4)", number, *alias));
    }
  } else if (publish.topic.empty()) {
    violation(fmt::format("connection {}: a PUBLISH without a topic [MQTT-4.7.3-1]", number));
  }
  if (v5 && publish.qos > limits.maximum_qos.value_or(2))
    violation(fmt::format("connection {}: a PUBLISH of QoS {} to '{}' above the Maximum QoS {} [MQTT-3.2.2-11]", number,
                          publish.qos, publish.topic, limits.maximum_qos.value_or(2)));
  if (v5 && publish.retain && limits.retain_available.value_or(1) == 0)
    violation(fmt::format("connection {}: a retained PUBLISH to '{}' without Retain Available [MQTT-3.2.2-14]", number,
                          publish.topic));
  if (publish.qos == 0) return;
  if (client_in_flight_.contains(publish.packet_id)) {
    // A resend (DUP, after a reconnect with the session) keeps its id [MQTT-4.4.0-1]; a new message may
    // not take an id still in flight [MQTT-2.2.1-3].
    if (!publish.dup)
      violation(fmt::format("connection {}: packet id {} reused while still in flight [MQTT-2.2.1-3]", number,
                            publish.packet_id));
    return;
  }
  client_in_flight_.insert(publish.packet_id);
  max_client_in_flight_ = std::max(max_client_in_flight_, client_in_flight_.size());
  if (client_in_flight_.size() > receive_maximum_)
    violation(fmt::format("connection {}: {} unacknowledged QoS>0 PUBLISHes with a Receive Maximum of {} "
                          "[MQTT-3.3.4-7] [MQTT-4.9.0-2]",
                          number, client_in_flight_.size(), receive_maximum_));
}

// Under mutex_: sends an ack of the client's publish now, or holds it.
void ScriptedBroker::acknowledge(int connection, mqtt::PublishAck ack, std::string& out) {
  if (hold_) {
    held_.push_back({connection, std::move(ack)});
    return;
  }
  mqtt::encode(ack, version_, out);
  // A PUBACK, or the PUBCOMP ending QoS 2, gives the client its quota back (4.9).
  if (ack.type == mqtt::PacketType::puback || ack.type == mqtt::PacketType::pubcomp)
    client_in_flight_.erase(ack.packet_id);
}

void ScriptedBroker::close_connection(Connection& connection) {
  {
    std::lock_guard io(io_mutex_);
    if (fd_connection_ == connection.number) fd_ = -1;
    ::close(connection.fd);
  }
  std::lock_guard lock(mutex_);
  closed_.insert(connection.number);
  // Acks held for a connection that is gone were never sent.
  std::erase_if(held_, [&](const HeldAck& held) { return held.connection == connection.number; });
  changed_.notify_all();
}

// To the current connection, if it is still `connection`; a write to a closed one is lost, as on a network.
void ScriptedBroker::write(int connection, const std::string& bytes) {
  std::lock_guard io(io_mutex_);
  if (fd_ < 0 || fd_connection_ != connection) return;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

void ScriptedBroker::violation(std::string what) { violations_.push_back(std::move(what)); }

// --- the test's side
void ScriptedBroker::set_connack(mqtt::Connack connack) {
  std::lock_guard lock(mutex_);
  connack_ = std::move(connack);
}

void ScriptedBroker::send_before_next_connack(std::string bytes) {
  std::lock_guard lock(mutex_);
  before_connack_ = std::move(bytes);
}

void ScriptedBroker::hold_acks(bool hold) {
  std::lock_guard lock(mutex_);
  hold_ = hold;
}

void ScriptedBroker::release_acks() {
  std::lock_guard lock(mutex_);
  int connection = 0;
  {
    std::lock_guard io(io_mutex_);
    connection = fd_connection_;
  }
  std::string out;
  for (auto& held : held_) {
    if (held.connection != connection) continue;
    mqtt::encode(held.ack, version_, out);
    if (held.ack.type == mqtt::PacketType::puback || held.ack.type == mqtt::PacketType::pubcomp)
      client_in_flight_.erase(held.ack.packet_id);
  }
  held_.clear();
  write(connection, out);
}

std::size_t ScriptedBroker::held_acks() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

void ScriptedBroker::send(const mqtt::Packet& packet) {
  mqtt::Version version;
  {
    std::lock_guard lock(mutex_);
    version = version_;
  }
  send_raw(encoded(packet, version));
}

void ScriptedBroker::send_raw(std::string_view bytes) {
  int connection = 0;
  {
    std::lock_guard io(io_mutex_);
    connection = fd_connection_;
  }
  write(connection, std::string(bytes));
}

void ScriptedBroker::drop() {
  std::lock_guard io(io_mutex_);
  // The broker's thread reads the end of the stream, closes and records it.
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

std::vector<ReceivedPacket> ScriptedBroker::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

bool ScriptedBroker::wait_for(const std::function<bool(const std::vector<ReceivedPacket>&)>& predicate,
                              std::chrono::milliseconds deadline) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return predicate(received_); });
}

void ScriptedBroker::on_packet(std::function<void(const ReceivedPacket&)> observer) {
  std::lock_guard lock(mutex_);
  observer_ = std::move(observer);
}

int ScriptedBroker::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

bool ScriptedBroker::connection_closed(int connection) const {
  std::lock_guard lock(mutex_);
  return closed_.contains(connection);
}

mqtt::Version ScriptedBroker::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

std::vector<std::string> ScriptedBroker::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

std::size_t ScriptedBroker::max_client_in_flight() const {
  std::lock_guard lock(mutex_);
  return max_client_in_flight_;
}

// --- helpers
const mqtt::Publish* as_publish(const ReceivedPacket& packet) { return std::get_if<mqtt::Publish>(&packet.packet); }

std::vector<mqtt::Publish> publishes(const std::vector<ReceivedPacket>& received, int connection) {
  std::vector<mqtt::Publish> out;
  for (const auto& r : received)
    if (const auto* publish = as_publish(r); publish && (connection == 0 || r.connection == connection))
      out.push_back(*publish);
  return out;
}

std::vector<std::uint16_t> acks(const std::vector<ReceivedPacket>& received, mqtt::PacketType type, int connection) {
  std::vector<std::uint16_t> out;
  for (const auto& r : received)
    if (const auto* ack = std::get_if<mqtt::PublishAck>(&r.packet);
        ack && ack->type == type && (connection == 0 || r.connection == connection))
      out.push_back(ack->packet_id);
  return out;
}

std::optional<mqtt::Disconnect> disconnect_of(const std::vector<ReceivedPacket>& received, int connection) {
  for (const auto& r : received)
    if (const auto* disconnect = std::get_if<mqtt::Disconnect>(&r.packet); disconnect && r.connection == connection)
      return *disconnect;
  return std::nullopt;
}

}  // namespace routemq::test
