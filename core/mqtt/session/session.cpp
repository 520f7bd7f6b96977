// The sans-IO MQTT client session (session.hpp). Conformance ids in brackets are OASIS MQTT 5.0's
// unless said otherwise; 3.1.1 behaves the same where it has the feature, and simply lacks the rest.
//
// Layout: the connection (CONNECT, CONNACK, the packet switch, closing), inbound (delivery and the
// ordered acknowledgement queue), outbound (the queue, packet ids, the broker's quota, topic aliases),
// subscriptions, time (keep alive, CONNACK deadline), and what the shell asks.
#include "core/mqtt/session/session.hpp"

#include <algorithm>
#include <utility>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/reason_code.hpp"

namespace routemq::mqtt {

namespace {

// Outbound topic aliases kept per connection at most: a linear scan of short strings stays cheaper
// than hashing, and an application's outbound topics are mostly a handful of reply topics.
constexpr std::size_t topic_alias_limit = 64;
// The Topic Alias property's size (identifier byte + Two Byte Integer): the size check of a publish
// counts it whenever aliases are in use, so every form the publish is later sent in fits.
constexpr std::size_t topic_alias_property_size = 3;

const char* packet_name(const Packet& packet) {
  struct Name {
    const char* operator()(const Connect&) const { return "CONNECT"; }
    const char* operator()(const Connack&) const { return "CONNACK"; }
    const char* operator()(const Publish&) const { return "PUBLISH"; }
    const char* operator()(const PublishAck& ack) const { return to_string(ack.type); }
    const char* operator()(const Subscribe&) const { return "SUBSCRIBE"; }
    const char* operator()(const Suback&) const { return "SUBACK"; }
    const char* operator()(const Unsubscribe&) const { return "UNSUBSCRIBE"; }
    const char* operator()(const Unsuback&) const { return "UNSUBACK"; }
    const char* operator()(const Pingreq&) const { return "PINGREQ"; }
    const char* operator()(const Pingresp&) const { return "PINGRESP"; }
    const char* operator()(const Disconnect&) const { return "DISCONNECT"; }
    const char* operator()(const Auth&) const { return "AUTH"; }
    const char* operator()(const OversizedPublish&) const { return "PUBLISH"; }
  };
  return std::visit(Name{}, packet);
}

std::string with_reason_string(std::string why, const Properties& properties) {
  if (properties.reason_string) {
    why += ": ";
    why += *properties.reason_string;
  }
  return why;
}

// Lends a message's strings to a PUBLISH packet (swaps, no copies) for sizing or encoding;
// give_back() returns them. The message is kept as an OutboundMessage (small) rather than as a
// Packet (the variant is sized for CONNECT) while it waits or is in flight.
Packet lend_publish(OutboundMessage& message, Version version, std::uint16_t packet_id, bool dup) {
  Packet packet{std::in_place_type<Publish>};
  auto& publish = std::get<Publish>(packet);
  publish.topic.swap(message.topic);
  publish.payload.swap(message.payload);
  publish.qos = static_cast<std::uint8_t>(message.options.qos);
  publish.retain = message.options.retain;
  publish.dup = dup;
  publish.packet_id = packet_id;
  if (version == Version::v5) {
    publish.properties.response_topic.swap(message.options.response_topic);
    publish.properties.correlation_data.swap(message.options.correlation_data);
    publish.properties.user_properties.swap(message.options.user_properties);
  }
  return packet;
}

void give_back(Packet& packet, OutboundMessage& message, Version version) {
  auto& publish = std::get<Publish>(packet);
  publish.topic.swap(message.topic);
  publish.payload.swap(message.payload);
  if (version == Version::v5) {
    publish.properties.response_topic.swap(message.options.response_topic);
    publish.properties.correlation_data.swap(message.options.correlation_data);
    publish.properties.user_properties.swap(message.options.user_properties);
  }
}

InboundMessage to_inbound_message(Publish& publish) {
  InboundMessage message;
  message.topic = std::move(publish.topic);
  message.payload = std::move(publish.payload);
  message.qos = publish.qos;
  message.retained = publish.retain;
  auto& properties = publish.properties;
  message.response_topic = std::move(properties.response_topic);
  message.correlation_data = std::move(properties.correlation_data);
  message.user_properties = std::move(properties.user_properties);
  message.subscription_ids.assign(properties.subscription_identifiers.begin(),
                                  properties.subscription_identifiers.end());
  return message;
}

}  // namespace

Session::Session(SessionOptions options) : options_(std::move(options)) {
  server_.keep_alive_s = options_.keep_alive_s;
}

// ============================================================================ the connection

void Session::connection_opened(Clock::time_point now) {
  if (phase_ != Phase::idle) connection_closed();  // the shell skipped it: the old connection is gone
  now_ = now;
  phase_ = Phase::awaiting_connack;
  const bool v5 = options_.version == Version::v5;
  // With MQTT 5 the broker knows our Maximum Packet Size and must not send more [MQTT-3.1.2-27]: a
  // larger packet is an error. With 3.1.1 it cannot know: such a PUBLISH is read past and refused.
  reader_.emplace(options_.version, options_.maximum_packet_size, v5);
  outgoing_.clear();
  ping_outstanding_ = false;

  Connect connect;
  connect.version = options_.version;
  connect.client_id = options_.client_id;
  connect.clean_start = options_.clean_start;
  connect.keep_alive_s = options_.keep_alive_s;
  connect.username = options_.username;
  connect.password = options_.password;
  connect.will = options_.will;
  if (v5) {
    auto& properties = connect.properties;
    if (options_.session_expiry_s != 0) properties.session_expiry_interval = options_.session_expiry_s;
    properties.receive_maximum = options_.receive_maximum;
    properties.maximum_packet_size = options_.maximum_packet_size;
    // We resolve no inbound aliases: with 0 the broker must send none [MQTT-3.1.2-30].
    properties.topic_alias_maximum = 0;
  }
  write(Packet{std::move(connect)});
  connack_deadline_ = now + options_.connack_timeout;
}

void Session::bytes_received(std::string_view bytes, Clock::time_point now) {
  now_ = now;
  if (phase_ != Phase::awaiting_connack && phase_ != Phase::connected) return;  // closing: read nothing more
  reader_->feed(bytes);
  while (phase_ == Phase::awaiting_connack || phase_ == Phase::connected) {
    auto packet = reader_->next();
    if (!packet) break;
    handle(*packet);
  }
  if (reader_->failed() && (phase_ == Phase::awaiting_connack || phase_ == Phase::connected)) {
    // The reader's reason code is the one 4.13 names for what was wrong (malformed, too large, ...).
    protocol_error(reader_->error().reason_code, "bad packet from the broker: " + reader_->error().what);
  }
}

void Session::connection_closed() {
  if (phase_ == Phase::idle) return;
  phase_ = Phase::idle;
  reader_.reset();
  outgoing_.clear();  // never written: the socket is gone
  ping_outstanding_ = false;
  alias_topics_.clear();  // aliases live as long as their connection (3.3.2.3.4)
  for (const auto& [id, index] : subacks_awaited_) free_packet_id(id);
  subacks_awaited_.clear();
  refused_.clear();
  if (unsuback_awaited_) free_packet_id(*unsuback_awaited_);
  unsuback_awaited_.reset();
  awaiting_pubrel_this_connection_ = 0;
  receive_maximum_overrun_seen_ = false;
  carry_acks_over();
}

bool Session::connected() const { return phase_ == Phase::connected; }

void Session::handle(Packet& packet) {
  if (phase_ == Phase::awaiting_connack && !std::holds_alternative<Connack>(packet)) {
    // The first packet from the server must be a CONNACK [MQTT-3.2.0-1].
    protocol_error(reason::protocol_error, std::string(packet_name(packet)) + " before CONNACK");
    return;
  }
  ping_outstanding_ = false;  // any packet shows the broker alive, not only PINGRESP
  if (auto* connack = std::get_if<Connack>(&packet)) return on_connack(*connack);
  if (auto* publish = std::get_if<Publish>(&packet)) return on_publish(*publish);
  if (auto* ack = std::get_if<PublishAck>(&packet)) {
    if (ack->type == PacketType::pubrel) return on_pubrel(*ack);
    return on_publish_ack(*ack);
  }
  if (auto* suback = std::get_if<Suback>(&packet)) return on_suback(*suback);
  if (auto* unsuback = std::get_if<Unsuback>(&packet)) {
    // Only consumed: unsubscribe_all() is the last thing a clean stop does.
    if (unsuback_awaited_ && *unsuback_awaited_ == unsuback->packet_id) {
      free_packet_id(unsuback->packet_id);
      unsuback_awaited_.reset();
    }
    return;
  }
  if (std::holds_alternative<Pingresp>(packet)) return;
  if (auto* disconnect = std::get_if<Disconnect>(&packet)) return on_server_disconnect(*disconnect);
  if (auto* oversized = std::get_if<OversizedPublish>(&packet)) return on_oversized_publish(*oversized);
  if (std::holds_alternative<Auth>(packet)) {
    // We sent no Authentication Method: the server must send no AUTH [MQTT-4.12.0-6].
    return protocol_error(reason::protocol_error, "AUTH from the broker, though we use no authentication method");
  }
  // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ: packets only a client sends.
  protocol_error(reason::protocol_error, std::string(packet_name(packet)) + " from the broker");
}

void Session::on_connack(Connack& connack) {
  if (phase_ == Phase::connected) {
    // The server sends one CONNACK per network connection [MQTT-3.2.0-2].
    return protocol_error(reason::protocol_error, "a second CONNACK");
  }
  const bool v5 = options_.version == Version::v5;
  const bool refused = v5 ? connack.reason_code >= 0x80 : connack.reason_code != 0;
  if (refused) {
    std::string why = v5 ? with_reason_string(reason_name(connack.reason_code), connack.properties)
                         : std::string(connack_return_name_311(connack.reason_code));
    events_.emplace_back(ConnectRefused{connack.reason_code, why});
    // The server closes the connection after a failing CONNACK [MQTT-3.2.2-7]; so do we.
    return close("connection refused: " + why, 0, false);
  }
  if (connack.session_present && options_.clean_start) {
    // After a Clean Start the server must say Session Present 0 [MQTT-3.2.2-2]; a client without
    // session state that reads 1 closes the connection [MQTT-3.2.2-4].
    return protocol_error(reason::protocol_error, "CONNACK says session present, though we asked for a clean start");
  }
  const auto& properties = connack.properties;
  if (properties.receive_maximum && *properties.receive_maximum == 0) {
    return protocol_error(reason::protocol_error, "CONNACK with Receive Maximum 0");  // 3.2.2.3.3
  }
  ServerLimits limits;  // the defaults of 3.2.2.3 where the broker says nothing
  limits.session_present = connack.session_present;
  limits.receive_maximum = properties.receive_maximum.value_or(limits.receive_maximum);
  limits.maximum_packet_size = properties.maximum_packet_size.value_or(limits.maximum_packet_size);
  limits.maximum_qos = properties.maximum_qos.value_or(limits.maximum_qos);
  limits.retain_available = properties.retain_available.value_or(1) != 0;
  limits.topic_alias_maximum = properties.topic_alias_maximum.value_or(0);
  limits.wildcard_subscription_available = properties.wildcard_subscription_available.value_or(1) != 0;
  limits.subscription_identifiers_available = properties.subscription_identifiers_available.value_or(1) != 0;
  limits.shared_subscription_available = properties.shared_subscription_available.value_or(1) != 0;
  // The Server Keep Alive replaces ours [MQTT-3.2.2-21].
  limits.keep_alive_s = properties.server_keep_alive.value_or(options_.keep_alive_s);
  limits.assigned_client_identifier = properties.assigned_client_identifier;
  if (limits.assigned_client_identifier && options_.client_id.empty()) {
    options_.client_id = *limits.assigned_client_identifier;  // so that a reconnect finds the session again
  }
  server_ = std::move(limits);
  phase_ = Phase::connected;
  last_sent_ = now_;

  settle_carried_acks(connack.session_present);
  events_.emplace_back(Connected{server_});
  resend_or_requeue_flights(connack.session_present);
  subscribe_all();
  send_queued_publishes();
}

void Session::on_server_disconnect(const Disconnect& disconnect) {
  std::string why = "the broker disconnected: ";
  why += reason_name(disconnect.reason_code);
  close(with_reason_string(std::move(why), disconnect.properties), 0, false);
}

void Session::disconnect(std::uint8_t reason_code) {
  if (phase_ != Phase::awaiting_connack && phase_ != Phase::connected) return;
  const bool v5 = options_.version == Version::v5;
  write(Packet{Disconnect{v5 ? reason_code : std::uint8_t{0}, {}}});  // 3.1.1: no reason code
  close("disconnect requested", v5 ? reason_code : 0, false);
}

void Session::protocol_error(std::uint8_t reason_code, std::string why) {
  if (phase_ != Phase::awaiting_connack && phase_ != Phase::connected) return;
  // MQTT 5 tells the server why before closing (4.13.2); 3.1.1 only closes (4.8 of 3.1.1).
  const bool v5 = options_.version == Version::v5;
  if (v5) write(Packet{Disconnect{reason_code, {}}});
  close(std::move(why), v5 ? reason_code : 0, true);
}

void Session::close(std::string why, std::uint8_t reason_code, bool broke_protocol) {
  phase_ = Phase::closing;
  events_.emplace_back(Closed{std::move(why), reason_code, broke_protocol});
}

void Session::write(const Packet& packet) {
  encode(packet, options_.version, outgoing_);
  // `now_` is the latest time we were told; a write from handled() or publish() is stamped with it,
  // so PINGREQ may come early, never late.
  last_sent_ = now_;
}

void Session::write_ack(PacketType type, std::uint16_t packet_id, std::uint8_t reason_code) {
  write(Packet{PublishAck{type, packet_id, reason_code, {}}});
}

// ============================================================================ inbound
//
// Every delivered QoS 1/2 message has a PendingAck in acks_, in arrival order; handled() marks it,
// and acknowledgements leave from the front only, so they go in arrival order [MQTT-4.6.0-2] (PUBACK)
// [MQTT-4.6.0-3] (PUBREC). QoS 0 messages need no acknowledgement: they are counted in qos0_ apart,
// so an unhandled one never holds a PUBACK back.
//
// When the connection goes, acks_ becomes carried_: acknowledgements never written. With session
// present the broker sends those messages again (DUP) [MQTT-4.4.0-1]; such a copy is not delivered
// again: its CarriedAck is adopted back into acks_ at the copy's place in arrival order, acknowledged
// when (or, if already handled, as soon as) its turn comes. An acknowledgement already written is
// not carried: the broker may have it, and a QoS 1 copy after our PUBACK is a new message
// [MQTT-4.3.2-5]. Without session present the carried acknowledgements are dropped [MQTT-3.2.2-5].

void Session::on_publish(Publish& publish) {
  if (publish.properties.topic_alias) {
    // We advertised Topic Alias Maximum 0 [MQTT-3.1.2-30]; an alias is invalid (3.3.2.3.4).
    return protocol_error(reason::topic_alias_invalid, "the broker sent a topic alias, though we allow none");
  }
  // A QoS 1/2 PUBLISH with packet id 0 never gets here: the reader refuses it as malformed [MQTT-2.2.1-3].
  if (publish.payload.size() > options_.max_message_bytes) {
    // Our Maximum Packet Size leaves room for the topic and properties: the payload's own limit is here.
    return on_oversized_publish(OversizedPublish{std::move(publish.topic), publish.qos, publish.packet_id,
                                                 publish.payload.size()});
  }
  if (publish.qos == 0) return deliver(publish);
  answer_copy_or_deliver(publish);
}

void Session::answer_copy_or_deliver(Publish& publish) {
  const std::uint16_t id = publish.packet_id;
  if (publish.qos == 2 && awaiting_pubrel_[id]) {
    // Our PUBREC went: answer with PUBREC again (in order), do not deliver again [MQTT-4.3.3-10].
    push_ack(0, 0, id, 2, true, false, false);
    return write_ready_acks();
  }
  if (inbound_id_pending_[id]) {
    if (adopt_carried_copy(publish)) return;
    // Still pending on this connection: a copy of a message whose acknowledgement we have not sent
    // yet; it will be acknowledged once, when the first is handled.
    if (inbound_id_pending_[id]) return;
  }
  if (options_.version == Version::v5 && acks_.size() + awaiting_pubrel_this_connection_ >= options_.receive_maximum &&
      !receive_maximum_overrun_seen_) {
    // More unacknowledged QoS 1/2 PUBLISHes than our Receive Maximum: the standard has us DISCONNECT with
    // 0x93 [MQTT-3.3.4-9] (4.9). We do not: Debian's mosquitto 2.0.11 overruns a small Receive Maximum
    // under load (seen with max_in_flight 2: a third PUBLISH before our first PUBACK), and closing would
    // drop the connection again after every reconnect. The message is taken, and we stop reading until
    // the app has room (wants_to_read()): memory stays bounded all the same. Said once per connection.
    receive_maximum_overrun_seen_ = true;
    events_.emplace_back(ReceiveMaximumOverrun{options_.receive_maximum});
  }
  deliver(publish);
}

bool Session::adopt_carried_copy(const Publish& publish) {
  auto carried = std::find_if(carried_.begin(), carried_.end(), [&](const CarriedAck& ack) {
    return ack.packet_id == publish.packet_id && !ack.forgotten;
  });
  if (carried == carried_.end()) return false;
  if (!publish.dup) {
    // A new message on the id: the broker no longer waits for the old acknowledgement.
    --acks_pending_;
    inbound_id_pending_[publish.packet_id] = false;
    if (carried->handled) carried_.erase(carried);
    else carried->forgotten = true;
    return false;
  }
  push_ack(carried->sequence, carried->bytes, carried->packet_id, publish.qos, carried->handled, true, true);
  carried_.erase(carried);
  write_ready_acks();
  return true;
}

void Session::deliver(Publish& publish) {
  const std::uint64_t sequence = next_sequence_++;
  const std::size_t bytes = publish.payload.size();
  ++unhandled_messages_;
  unhandled_bytes_ += bytes;
  if (publish.qos == 0) {
    qos0_.push_back(DeliveredQos0{sequence, bytes, false});
  } else {
    acks_.push_back(PendingAck{sequence, sequence, bytes, publish.packet_id, publish.qos, false, true, false});
    inbound_id_pending_[publish.packet_id] = true;
    ++acks_pending_;
  }
  events_.emplace_back(MessageArrived{to_inbound_message(publish), sequence});
}

void Session::on_oversized_publish(const OversizedPublish& publish) {
  events_.emplace_back(MessageRefused{publish.topic, publish.size});
  if (publish.qos == 0 || publish.packet_id == 0) return;
  // Acknowledged as if handled at once, processed or not [MQTT-4.5.0-2]: an unacknowledged one would
  // hold a slot of the broker's quota (and of its session) for ever.
  if (publish.qos == 2 && awaiting_pubrel_[publish.packet_id]) {
    push_ack(0, 0, publish.packet_id, 2, true, false, false);
  } else if (!inbound_id_pending_[publish.packet_id]) {
    push_ack(0, 0, publish.packet_id, publish.qos, true, true, false);
    inbound_id_pending_[publish.packet_id] = true;
    ++acks_pending_;
  }
  write_ready_acks();
}

void Session::push_ack(std::uint64_t sequence, std::size_t bytes, std::uint16_t packet_id, std::uint8_t qos,
                       bool handled, bool counted, bool adopted) {
  const std::uint64_t order = next_sequence_++;  // never given out: no handled() can name it
  acks_.push_back(PendingAck{order, sequence, bytes, packet_id, qos, handled, counted, adopted});
  if (adopted) ++adopted_in_acks_;
}

void Session::write_ready_acks() {
  if (phase_ != Phase::connected) return;  // they wait for the next connection (carried)
  while (!acks_.empty() && acks_.front().handled) {
    const PendingAck& ack = acks_.front();
    if (ack.qos == 1) {
      write_ack(PacketType::puback, ack.packet_id);
    } else {
      write_ack(PacketType::pubrec, ack.packet_id);
      if (!awaiting_pubrel_[ack.packet_id]) {
        awaiting_pubrel_[ack.packet_id] = true;  // until PUBREL [MQTT-4.3.3-10]
        ++awaiting_pubrel_this_connection_;
      }
    }
    if (ack.counted) {
      --acks_pending_;
      inbound_id_pending_[ack.packet_id] = false;
    }
    if (ack.adopted) --adopted_in_acks_;
    acks_.pop_front();
  }
}

void Session::on_pubrel(const PublishAck& pubrel) {
  const std::uint16_t id = pubrel.packet_id;
  if (awaiting_pubrel_[id]) {
    awaiting_pubrel_[id] = false;  // after PUBCOMP the id names a new message [MQTT-4.3.3-12]
    if (awaiting_pubrel_this_connection_ > 0) --awaiting_pubrel_this_connection_;
    return write_ack(PacketType::pubcomp, id);
  }
  // A PUBREL again after our PUBCOMP was lost is answered too [MQTT-4.3.3-11]; MQTT 5 says we did not
  // know the id (3.7.2.1).
  write_ack(PacketType::pubcomp, id, options_.version == Version::v5 ? reason::packet_identifier_not_found : 0);
}

void Session::handled(std::uint64_t sequence) {
  // Unknown or repeated sequences are ignored: the application may call twice, or late.
  if (mark_handled_in_acks(sequence)) return;
  if (mark_handled_qos0(sequence)) return;
  mark_handled_carried(sequence);
}

bool Session::mark_handled_in_acks(std::uint64_t sequence) {
  PendingAck* found = nullptr;
  auto at = std::lower_bound(acks_.begin(), acks_.end(), sequence,
                             [](const PendingAck& ack, std::uint64_t s) { return ack.order < s; });
  if (at != acks_.end() && at->order == sequence && at->sequence == sequence) found = &*at;
  if (!found && adopted_in_acks_ > 0) {  // rare: after a reconnect, until the copies are acknowledged
    auto adopted = std::find_if(acks_.begin(), acks_.end(),
                                [&](const PendingAck& ack) { return ack.adopted && ack.sequence == sequence; });
    if (adopted != acks_.end()) found = &*adopted;
  }
  if (!found) return false;
  if (!found->handled) {
    found->handled = true;
    release_in_flight(found->bytes);
    write_ready_acks();
  }
  return true;
}

bool Session::mark_handled_qos0(std::uint64_t sequence) {
  auto at = std::lower_bound(qos0_.begin(), qos0_.end(), sequence,
                             [](const DeliveredQos0& message, std::uint64_t s) { return message.sequence < s; });
  if (at == qos0_.end() || at->sequence != sequence) return false;
  if (!at->handled) {
    at->handled = true;
    release_in_flight(at->bytes);
    while (!qos0_.empty() && qos0_.front().handled) qos0_.pop_front();
  }
  return true;
}

bool Session::mark_handled_carried(std::uint64_t sequence) {
  auto at = std::find_if(carried_.begin(), carried_.end(),
                         [&](const CarriedAck& ack) { return ack.sequence == sequence; });
  if (at == carried_.end()) return false;
  if (!at->handled) {
    at->handled = true;
    release_in_flight(at->bytes);
    if (at->forgotten) carried_.erase(at);  // the broker forgot it: nothing left to acknowledge
    // else: its acknowledgement goes when the broker's copy arrives
  }
  return true;
}

void Session::release_in_flight(std::size_t bytes) {
  --unhandled_messages_;
  unhandled_bytes_ -= bytes;
}

void Session::carry_acks_over() {
  for (const PendingAck& ack : acks_) {
    if (!ack.counted) continue;  // an answer to a copy: the broker will send the copy again if it needs one
    carried_.push_back(CarriedAck{ack.sequence, ack.bytes, ack.packet_id, ack.qos, ack.handled, false});
  }
  acks_.clear();
  adopted_in_acks_ = 0;
}

void Session::settle_carried_acks(bool session_present) {
  if (session_present) return;  // the broker kept its session: the copies will come [MQTT-4.4.0-1]
  // A new session on the broker: it waits for none of our acknowledgements and will send no PUBREL.
  for (CarriedAck& ack : carried_) {
    if (ack.forgotten) continue;
    ack.forgotten = true;
    --acks_pending_;
    inbound_id_pending_[ack.packet_id] = false;
  }
  std::erase_if(carried_, [](const CarriedAck& ack) { return ack.handled; });
  awaiting_pubrel_.assign(awaiting_pubrel_.size(), false);
}

// ============================================================================ outbound

bool Session::publish(OutboundMessage message) {
  if (phase_ == Phase::connected) {
    lower_qos(message);
    if (refuse_if_unsendable(message)) return false;
    if (message.options.qos == 0) {
      send_publish(message, 0, false);  // QoS 0 needs no quota
      return true;
    }
    if (queue_.empty() && flights_.size() < server_.receive_maximum) {
      if (auto id = take_packet_id()) {
        send_publish(message, *id, false);
        flights_.push_back(Flight{std::move(message), *id, false});
        return true;
      }
    }
  }
  if (queue_.size() >= options_.max_buffered) {
    events_.emplace_back(PublishRefused{std::move(message), "queue full"});
    return false;
  }
  queue_.push_back(std::move(message));  // checked again when sent: the next broker may differ
  return true;
}

void Session::lower_qos(OutboundMessage& message) const {
  // Never above the server's Maximum QoS [MQTT-3.2.2-11].
  message.options.qos = std::clamp<int>(message.options.qos, 0, server_.maximum_qos);
}

bool Session::refuse_if_unsendable(OutboundMessage& message) {
  if (message.options.retain && !server_.retain_available) {
    // Retain Available 0: no PUBLISH with RETAIN 1 [MQTT-3.2.2-14].
    events_.emplace_back(PublishRefused{std::move(message), "the broker does not support retain"});
    return true;
  }
  const std::size_t size = publish_size(message);
  if (size > server_.maximum_packet_size) {
    // Nothing larger than the server's Maximum Packet Size is sent [MQTT-3.2.2-15].
    events_.emplace_back(PublishRefused{std::move(message), "larger than the broker's maximum packet size (" +
                                                                std::to_string(size) + " > " +
                                                                std::to_string(server_.maximum_packet_size) + " bytes)"});
    return true;
  }
  return false;
}

std::size_t Session::publish_size(OutboundMessage& message) const {
  Packet packet = lend_publish(message, options_.version, message.options.qos > 0 ? 1 : 0, false);
  std::size_t size = encoded_size(packet, options_.version);
  give_back(packet, message, options_.version);
  if (options_.version == Version::v5 && server_.topic_alias_maximum > 0) size += topic_alias_property_size;
  return size;
}

void Session::send_publish(OutboundMessage& message, std::uint16_t packet_id, bool dup) {
  Packet packet = lend_publish(message, options_.version, packet_id, dup);
  auto& publish = std::get<Publish>(packet);
  std::string hidden_topic;
  // A resend (DUP) carries the whole topic: the aliases of the earlier connection are gone.
  if (!dup && options_.version == Version::v5 && server_.topic_alias_maximum > 0) {
    bool first_use = false;
    if (std::uint16_t alias = topic_alias_for(publish.topic, first_use)) {
      publish.properties.topic_alias = alias;
      if (!first_use) hidden_topic.swap(publish.topic);  // a known alias: empty topic name (3.3.2.3.4)
    }
  }
  write(packet);
  if (publish.topic.empty()) hidden_topic.swap(publish.topic);
  give_back(packet, message, options_.version);
}

std::uint16_t Session::topic_alias_for(const std::string& topic, bool& first_use) {
  for (std::size_t i = 0; i < alias_topics_.size(); ++i) {
    if (alias_topics_[i] == topic) return static_cast<std::uint16_t>(i + 1);
  }
  // Aliases 1 .. the server's Topic Alias Maximum only [MQTT-3.2.2-17] [MQTT-3.3.2-9]; no eviction: a
  // topic without an alias is sent whole.
  const std::size_t limit = std::min<std::size_t>(server_.topic_alias_maximum, topic_alias_limit);
  if (alias_topics_.size() >= limit) return 0;
  alias_topics_.push_back(topic);
  first_use = true;
  return static_cast<std::uint16_t>(alias_topics_.size());
}

std::optional<std::uint16_t> Session::take_packet_id() {
  // Non-zero and not in use by another PUBLISH, SUBSCRIBE or UNSUBSCRIBE [MQTT-2.2.1-3].
  for (std::uint32_t tries = 0; tries < 65535; ++tries) {
    last_packet_id_ = last_packet_id_ == 65535 ? 1 : static_cast<std::uint16_t>(last_packet_id_ + 1);
    if (!outbound_id_used_[last_packet_id_]) {
      outbound_id_used_[last_packet_id_] = true;
      return last_packet_id_;
    }
  }
  return std::nullopt;
}

void Session::free_packet_id(std::uint16_t id) { outbound_id_used_[id] = false; }

void Session::send_queued_publishes() {
  while (phase_ == Phase::connected && !queue_.empty()) {
    OutboundMessage& message = queue_.front();
    lower_qos(message);
    if (refuse_if_unsendable(message)) {
      queue_.pop_front();
      continue;
    }
    if (message.options.qos == 0) {
      send_publish(message, 0, false);
      queue_.pop_front();
      continue;
    }
    // The server's quota [MQTT-3.3.4-7] [MQTT-4.9.0-2]; only PUBLISHes wait for it [MQTT-3.3.4-8].
    if (flights_.size() >= server_.receive_maximum) return;
    auto id = take_packet_id();
    if (!id) return;
    send_publish(message, *id, false);
    flights_.push_back(Flight{std::move(message), *id, false});
    queue_.pop_front();
  }
}

void Session::on_publish_ack(const PublishAck& ack) {
  auto flight = std::find_if(flights_.begin(), flights_.end(),
                             [&](const Flight& f) { return f.packet_id == ack.packet_id; });
  const bool expected = flight != flights_.end() &&
                        (ack.type == PacketType::puback ? flight->message.options.qos == 1 && !flight->released
                         : ack.type == PacketType::pubrec ? flight->message.options.qos == 2
                                                          : flight->released);
  if (!expected) {
    return protocol_error(reason::protocol_error, std::string(to_string(ack.type)) + " for packet id " +
                                                      std::to_string(ack.packet_id) + ", which is not in flight");
  }
  if (ack.type == PacketType::pubrec && ack.reason_code < 0x80) {
    // PUBREC: the broker has it; release it (again, if the PUBREC came twice) [MQTT-4.3.3-4].
    flight->released = true;
    return write_ack(PacketType::pubrel, ack.packet_id);
  }
  // PUBACK, PUBCOMP, or a failing PUBREC (acknowledged, never sent again [MQTT-4.4.0-2]): done; the
  // quota grows by one (4.9).
  free_packet_id(flight->packet_id);
  flights_.erase(flight);
  send_queued_publishes();
}

void Session::resend_or_requeue_flights(bool session_present) {
  if (session_present) {
    // Unacknowledged PUBLISHes again with DUP [MQTT-3.3.1-1] and their ids, and PUBRELs again, in their
    // original order [MQTT-4.4.0-1] [MQTT-4.6.0-1] [MQTT-4.6.0-4].
    for (Flight& flight : flights_) {
      if (flight.released) write_ack(PacketType::pubrel, flight.packet_id);
      else send_publish(flight.message, flight.packet_id, true);
    }
    return;
  }
  // The broker started a new session and knows none of them. Our choice: send each again as a new
  // message, first in the queue, rather than drop it (at least once; a QoS 2 message may so arrive
  // twice). A released QoS 2 message (PUBREC in) is dropped: the broker had it.
  for (auto flight = flights_.rbegin(); flight != flights_.rend(); ++flight) {
    free_packet_id(flight->packet_id);
    if (!flight->released) queue_.push_front(std::move(flight->message));
  }
  flights_.clear();
}

// ============================================================================ subscriptions

void Session::subscribe_all() {
  const bool v5 = options_.version == Version::v5;
  for (std::size_t i = 0; i < options_.subscriptions.size(); ++i) {
    auto id = take_packet_id();
    if (!id) break;
    Subscribe subscribe;
    subscribe.packet_id = *id;
    subscribe.topics.push_back(options_.subscriptions[i]);
    if (v5) {
      subscribe.topics.back().retain_handling = 1;  // retained messages only for a new subscription
      if (server_.subscription_identifiers_available) {
        // Identifier i + 1 tells the application which subscription a message came for (3.8.2.1.2).
        subscribe.properties.subscription_identifiers.push_back(static_cast<std::uint32_t>(i + 1));
      }
    }
    write(Packet{std::move(subscribe)});
    subacks_awaited_.emplace_back(*id, i);
  }
  if (subacks_awaited_.empty()) events_.emplace_back(Subscribed{});
}

void Session::on_suback(const Suback& suback) {
  auto awaited = std::find_if(subacks_awaited_.begin(), subacks_awaited_.end(),
                              [&](const auto& entry) { return entry.first == suback.packet_id; });
  if (awaited == subacks_awaited_.end()) {
    return protocol_error(reason::protocol_error,
                          "SUBACK for packet id " + std::to_string(suback.packet_id) + ", which we did not send");
  }
  // One filter per SUBSCRIBE: one reason code, 0x80 and above refused (3.9.3) [MQTT-3.9.3-1].
  const std::uint8_t code = suback.reason_codes.empty() ? reason::unspecified_error : suback.reason_codes.front();
  if (code >= 0x80) refused_.emplace_back(options_.subscriptions[awaited->second].filter, code);
  free_packet_id(suback.packet_id);
  subacks_awaited_.erase(awaited);
  if (subacks_awaited_.empty()) events_.emplace_back(Subscribed{std::exchange(refused_, {})});
}

void Session::unsubscribe_all() {
  if (phase_ != Phase::connected || options_.subscriptions.empty()) return;
  auto id = take_packet_id();
  if (!id) return;
  Unsubscribe unsubscribe;
  unsubscribe.packet_id = *id;
  for (const auto& subscription : options_.subscriptions) unsubscribe.filters.push_back(subscription.filter);
  write(Packet{std::move(unsubscribe)});
  unsuback_awaited_ = *id;
}

// ============================================================================ time
//
// Keep alive: when nothing was sent for Keep Alive seconds, PINGREQ [MQTT-3.1.2-22]. When nothing at
// all came back within Keep Alive after it, the broker is gone: Closed (MQTT 5: DISCONNECT 0x8D,
// 4.13). Any packet counts as an answer (a PINGRESP may queue behind PUBLISHes). While we do not read
// (wants_to_read() false) the answer cannot be seen: the deadline waits.

void Session::tick(Clock::time_point now) {
  now_ = now;
  if (phase_ == Phase::awaiting_connack) {
    if (now >= connack_deadline_) {
      close("no CONNACK within " + std::to_string(options_.connack_timeout.count()) + " ms", 0, false);
    }
    return;
  }
  if (phase_ != Phase::connected || server_.keep_alive_s == 0) return;
  const auto keep_alive = std::chrono::seconds(server_.keep_alive_s);
  if (ping_outstanding_) {
    if (now < ping_deadline_) return;
    if (!wants_to_read()) {
      ping_deadline_ = now + keep_alive;
      return;
    }
    const bool v5 = options_.version == Version::v5;
    if (v5) write(Packet{Disconnect{reason::keep_alive_timeout, {}}});
    close("keep alive timeout: nothing from the broker within " + std::to_string(server_.keep_alive_s) +
              " s after PINGREQ",
          v5 ? reason::keep_alive_timeout : 0, false);
    return;
  }
  if (now >= last_sent_ + keep_alive) {
    write(Packet{Pingreq{}});
    ping_outstanding_ = true;
    ping_deadline_ = now + keep_alive;
  }
}

Clock::time_point Session::next_tick() const {
  if (phase_ == Phase::awaiting_connack) return connack_deadline_;
  if (phase_ != Phase::connected || server_.keep_alive_s == 0) return Clock::time_point::max();
  if (ping_outstanding_) return ping_deadline_;
  return last_sent_ + std::chrono::seconds(server_.keep_alive_s);
}

// ============================================================================ what the shell asks

std::optional<SessionEvent> Session::next_event() {
  if (events_taken_ == events_.size()) return std::nullopt;
  std::optional<SessionEvent> event{std::move(events_[events_taken_++])};
  if (events_taken_ == events_.size()) {
    events_.clear();
    events_taken_ = 0;
  }
  return event;
}

void Session::take_outgoing(std::string& out) {
  out.swap(outgoing_);  // the caller's old buffer keeps its capacity for the next packets
  outgoing_.clear();
}

bool Session::has_outgoing() const { return !outgoing_.empty(); }

bool Session::wants_to_read() const {
  if (unhandled_messages_ == 0) return true;  // one message is always allowed, however large
  return unhandled_messages_ < options_.receive_maximum && unhandled_bytes_ < options_.max_in_flight_bytes;
}

SessionCounts Session::counts() const {
  SessionCounts counts;
  counts.acks_pending = acks_pending_;
  counts.in_flight_messages = unhandled_messages_;
  counts.in_flight_bytes = unhandled_bytes_;
  counts.publishes_queued = queue_.size();
  counts.publishes_in_flight = flights_.size();
  return counts;
}

const ServerLimits& Session::server() const { return server_; }

}  // namespace routemq::mqtt
