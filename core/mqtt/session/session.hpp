#pragma once
// An MQTT client session as a state machine without I/O (OASIS MQTT 3.1.1 and 5.0): bytes and time
// in, bytes and events out. The Asio shell (native_client.hpp) owns the socket and the timer and does
// what the session says; everything the protocol decides is decided here, and tested step by step
// without sockets (tests/unit/mqtt).
//
//   session.connection_opened(now);                      // CONNECT is in outgoing()
//   session.bytes_received(bytes, now);                  // CONNACK, then SUBSCRIBE ... is in outgoing()
//   while (auto event = session.next_event()) { ... }    // MessageArrived{message, sequence} ...
//   session.handled(sequence);                           // its PUBACK goes once every earlier one went
//   session.publish(message);                            // queued; sent within the server's quota
//   write(session.take_outgoing());                      // one buffer, one socket write
//   timer.expires_at(session.next_tick()); ... session.tick(now);   // keepalive, CONNACK deadline
//
// What it promises:
// - Inbound: a QoS 1/2 message is acknowledged (PUBACK, PUBREC) only once handled(sequence) said so,
//   and acknowledgements leave in the order the messages arrived [MQTT-4.6.0-2]. A QoS 2 message is
//   delivered once: a copy of a packet id whose PUBREC went is answered, not delivered again
//   [MQTT-4.3.3-10]. A redelivered copy (after a reconnect with session present) of a message still
//   being handled is not delivered again: its acknowledgement follows the first's handling.
// - Flow control: wants_to_read() is false while `receive_maximum` messages or `max_in_flight_bytes`
//   bytes are delivered and not yet acknowledged; the shell stops reading then (3.1.1 has no Receive
//   Maximum; this is its backpressure).
// - Outbound: QoS 1/2 publishes take packet ids and stay within the server's Receive Maximum
//   [MQTT-4.9.0-2]; more wait in order (at most `max_buffered`, more are refused). After a reconnect
//   with session present the unacknowledged ones are sent again with DUP, and PUBRELs again, in order
//   [MQTT-4.4.0-1]; without it they are sent again as new messages. Nothing larger than the server's
//   Maximum Packet Size is sent [MQTT-3.2.2-15]: such a publish is refused as an event. QoS above the
//   server's Maximum QoS is lowered to it [MQTT-3.2.2-11]. Topic aliases up to the server's Topic Alias
//   Maximum.
// - A protocol violation by the server (a packet before CONNACK, a second CONNACK, an ack for an
//   unknown packet id, a malformed packet, ...) puts a DISCONNECT with its reason code (MQTT 5) in
//   outgoing() and a Closed event out: the shell writes what is left, then closes.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/handling/message.hpp"
#include "core/mqtt/protocol/packet.hpp"
#include "core/mqtt/protocol/packet_reader.hpp"

namespace routemq::mqtt {

using Clock = std::chrono::steady_clock;

struct SessionOptions {
  Version version = Version::v5;
  std::string client_id;
  bool clean_start = true;
  std::uint16_t keep_alive_s = 30;
  std::uint32_t session_expiry_s = 0;  // v5: how long the broker keeps the session after a disconnect
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<Will> will;
  // Subscribed after every CONNACK, one SUBSCRIBE each; with v5, subscription i carries subscription
  // identifier i + 1 and retain handling 1 (retained messages only for a new subscription).
  std::vector<SubscribeTopic> subscriptions;
  std::uint16_t receive_maximum = 1000;           // ours: messages delivered and not yet acknowledged
  std::size_t max_in_flight_bytes = 64u << 20;    // and their payload bytes
  std::uint32_t maximum_packet_size = 1u << 20;   // ours; larger inbound PUBLISHes are refused
  // The largest payload taken; a larger one (that fit in the packet size) is refused as well.
  std::size_t max_message_bytes = std::size_t(1) << 20;
  std::size_t max_buffered = 100000;              // outbound publishes waiting for the connection or quota
  std::chrono::milliseconds connack_timeout{10000};
};

// What the broker said in its CONNACK, defaults filled in where it said nothing (3.2.2.3).
struct ServerLimits {
  bool session_present = false;
  std::uint16_t receive_maximum = 65535;
  std::uint32_t maximum_packet_size = 268'435'460;  // the protocol's own limit when none is given
  std::uint8_t maximum_qos = 2;
  bool retain_available = true;
  std::uint16_t topic_alias_maximum = 0;
  bool wildcard_subscription_available = true;
  bool subscription_identifiers_available = true;
  bool shared_subscription_available = true;
  std::uint16_t keep_alive_s = 0;  // the Server Keep Alive when given, else ours
  std::optional<std::string> assigned_client_identifier;
};

// --- events out
struct Connected {
  ServerLimits server;
};
struct ConnectRefused {  // a CONNACK with a failure code; the session closes
  std::uint8_t reason_code = 0;
  std::string why;
};
struct Subscribed {  // every SUBACK of this connection is in
  std::vector<std::pair<std::string, std::uint8_t>> refused;  // filter, reason code (>= 0x80)
};
struct MessageArrived {
  InboundMessage message;
  std::uint64_t sequence = 0;  // give it to handled() once the message was handled, whatever the outcome
};
struct PublishRefused {  // an outbound publish that will never be sent
  OutboundMessage message;
  std::string why;  // "larger than the broker's maximum packet size (300 > 256 bytes)", "queue full"
};
struct MessageRefused {  // an inbound PUBLISH read past (larger than our maximum); acknowledged
  std::string topic;
  std::size_t size = 0;
};
struct ReceiveMaximumOverrun {  // the broker sent more unacknowledged QoS 1/2 messages than we allow
  std::uint16_t receive_maximum = 0;
};
struct Closed {  // close the socket (after writing outgoing()); then connection_closed()
  std::string why;
  std::uint8_t reason_code = 0;  // what we sent in our DISCONNECT (v5), or 0
  bool protocol_error = false;   // the broker broke the protocol (counted apart from ordinary losses)
};
using SessionEvent = std::variant<Connected, ConnectRefused, Subscribed, MessageArrived, PublishRefused, MessageRefused,
                                  ReceiveMaximumOverrun, Closed>;

struct SessionCounts {
  std::size_t acks_pending = 0;        // inbound QoS 1/2 messages not yet acknowledged
  std::size_t in_flight_messages = 0;  // delivered, not yet handled
  std::size_t in_flight_bytes = 0;
  std::size_t publishes_queued = 0;     // waiting for the connection or the server's quota
  std::size_t publishes_in_flight = 0;  // sent, not yet acknowledged by the broker
};

class Session {
 public:
  explicit Session(SessionOptions options);

  // --- the connection
  void connection_opened(Clock::time_point now);  // queues CONNECT
  void bytes_received(std::string_view bytes, Clock::time_point now);
  void connection_closed();  // the socket is gone (or we closed it); state kept for the next one
  bool connected() const;    // CONNACK accepted and not closed since

  // --- the application
  void handled(std::uint64_t sequence);
  // Queues (or sends) a publish. Refused at once (false, and a PublishRefused event) when it can never
  // be sent: larger than the server's maximum, or the queue is full.
  bool publish(OutboundMessage message);
  void unsubscribe_all();  // UNSUBSCRIBE for every subscription (a clean stop of a clean session)
  void disconnect(std::uint8_t reason_code = 0);  // DISCONNECT, then Closed

  // --- time
  void tick(Clock::time_point now);  // keepalive (PINGREQ; no PINGRESP in time: Closed), CONNACK deadline
  Clock::time_point next_tick() const;

  // --- what to do
  std::optional<SessionEvent> next_event();
  void take_outgoing(std::string& out);  // the bytes to write, moved into `out` (replacing it)
  bool has_outgoing() const;
  bool wants_to_read() const;  // false: stop reading until handled() frees room

  SessionCounts counts() const;
  const ServerLimits& server() const;

 private:
  // --- inbound acknowledgements (session.cpp: "Inbound")
  // A QoS 1/2 message of this connection, in arrival order, until its PUBACK/PUBREC is written.
  struct PendingAck {
    std::uint64_t order = 0;     // arrival order on this connection (sorted: binary search)
    std::uint64_t sequence = 0;  // the application's handle; == order unless adopted (or 0: an answer)
    std::size_t bytes = 0;       // payload bytes, while not handled
    std::uint16_t packet_id = 0;
    std::uint8_t qos = 1;
    bool handled = false;
    bool counted = false;  // an acknowledgement the broker waits for (acks_pending, pending id)
    bool adopted = false;  // delivered on an earlier connection; its copy arrived on this one
  };
  // A QoS 1/2 message of an earlier connection whose acknowledgement was never written.
  struct CarriedAck {
    std::uint64_t sequence = 0;
    std::size_t bytes = 0;
    std::uint16_t packet_id = 0;
    std::uint8_t qos = 1;
    bool handled = false;
    bool forgotten = false;  // the broker started a new session: no acknowledgement will go
  };
  struct DeliveredQos0 {
    std::uint64_t sequence = 0;
    std::size_t bytes = 0;
    bool handled = false;
  };
  // --- outbound publishes (session.cpp: "Outbound")
  struct Flight {
    OutboundMessage message;  // QoS already lowered to the broker's maximum
    std::uint16_t packet_id = 0;
    bool released = false;  // QoS 2: PUBREC in, PUBREL sent, waiting for PUBCOMP
  };
  enum class Phase : std::uint8_t { idle, awaiting_connack, connected, closing };

  void handle(Packet& packet);
  void on_connack(Connack& connack);
  void on_publish(Publish& publish);
  void on_oversized_publish(const OversizedPublish& publish);
  void on_publish_ack(const PublishAck& ack);
  void on_pubrel(const PublishAck& pubrel);
  void on_suback(const Suback& suback);
  void on_server_disconnect(const Disconnect& disconnect);

  void deliver(Publish& publish);
  void answer_copy_or_deliver(Publish& publish);
  bool adopt_carried_copy(const Publish& publish);
  void push_ack(std::uint64_t sequence, std::size_t bytes, std::uint16_t packet_id, std::uint8_t qos, bool handled,
                bool counted, bool adopted);
  void write_ready_acks();
  bool mark_handled_in_acks(std::uint64_t sequence);
  bool mark_handled_qos0(std::uint64_t sequence);
  bool mark_handled_carried(std::uint64_t sequence);
  void release_in_flight(std::size_t bytes);
  void carry_acks_over();
  void settle_carried_acks(bool session_present);

  void resend_or_requeue_flights(bool session_present);
  void subscribe_all();
  void send_queued_publishes();
  bool refuse_if_unsendable(OutboundMessage& message);
  void send_publish(OutboundMessage& message, std::uint16_t packet_id, bool dup);
  std::size_t publish_size(OutboundMessage& message) const;
  std::uint16_t topic_alias_for(const std::string& topic, bool& first_use);
  std::optional<std::uint16_t> take_packet_id();
  void free_packet_id(std::uint16_t id);
  void lower_qos(OutboundMessage& message) const;

  void write(const Packet& packet);
  void write_ack(PacketType type, std::uint16_t packet_id, std::uint8_t reason_code = 0);
  void protocol_error(std::uint8_t reason_code, std::string why);
  void close(std::string why, std::uint8_t reason_code, bool broke_protocol);

  SessionOptions options_;
  Phase phase_ = Phase::idle;
  std::optional<PacketReader> reader_;
  ServerLimits server_;
  std::string outgoing_;
  // Drained by index and cleared when empty: its capacity is reused, no allocation per event (a
  // deque would allocate a block every two events of this size).
  std::vector<SessionEvent> events_;
  std::size_t events_taken_ = 0;
  Clock::time_point now_{};
  Clock::time_point connack_deadline_{};
  Clock::time_point last_sent_{};
  Clock::time_point ping_deadline_{};
  bool ping_outstanding_ = false;

  // inbound
  std::uint64_t next_sequence_ = 1;
  std::deque<PendingAck> acks_;          // this connection's, in arrival order
  std::deque<CarriedAck> carried_;       // earlier connections', by sequence
  std::deque<DeliveredQos0> qos0_;       // by sequence, until handled
  std::vector<bool> inbound_id_pending_ = std::vector<bool>(65536);  // id in acks_ (counted) or carried_
  std::vector<bool> awaiting_pubrel_ = std::vector<bool>(65536);     // QoS 2: PUBREC written
  std::size_t awaiting_pubrel_this_connection_ = 0;
  bool receive_maximum_overrun_seen_ = false;  // this connection's, said once
  std::size_t adopted_in_acks_ = 0;
  std::size_t acks_pending_ = 0;
  std::size_t unhandled_messages_ = 0;
  std::size_t unhandled_bytes_ = 0;

  // outbound
  std::deque<OutboundMessage> queue_;  // waiting for the connection or the broker's quota
  std::deque<Flight> flights_;         // sent, not yet acknowledged, in send order
  std::vector<bool> outbound_id_used_ = std::vector<bool>(65536);
  std::uint16_t last_packet_id_ = 0;
  std::vector<std::string> alias_topics_;  // alias i + 1 names alias_topics_[i]; this connection's

  // subscriptions of this connection
  std::vector<std::pair<std::uint16_t, std::size_t>> subacks_awaited_;  // packet id, subscription index
  std::vector<std::pair<std::string, std::uint8_t>> refused_;
  std::optional<std::uint16_t> unsuback_awaited_;
};

}  // namespace routemq::mqtt
