#pragma once
// The outcome of one request: a reply from Redis (which may itself be an error reply, e.g. WRONGTYPE),
// or a failure to get one. Callers that must tell "miss" from "unavailable" look here.
#include <string>

#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

enum class Failure {
  none,
  unavailable,      // disabled, not connected, or the circuit is open: nothing was sent
  timeout,          // sent, no reply in time: the outcome is unknown (never replayed)
  connection_lost,  // sent, then the connection failed: the outcome is unknown
  protocol,         // the bytes from the server made no sense; the connection is dropped
  refused,          // not sent: not allowed here (raw access on a scoped view)
};

const char* to_string(Failure failure);

struct Result {
  Reply reply;
  Failure failure = Failure::none;
  std::string detail;

  static Result success(Reply&& reply) { return {std::move(reply), Failure::none, {}}; }
  static Result failed(Failure failure, std::string detail) { return {Reply::nil(), failure, std::move(detail)}; }

  // A reply arrived (possibly an error reply).
  bool ok() const { return failure == Failure::none; }
  // A reply arrived and it is not an error reply.
  bool succeeded() const { return ok() && !reply.is_error(); }
  bool unavailable() const { return failure == Failure::unavailable; }
  // Sent, but whether Redis applied it is unknown (timeout, connection lost, protocol error).
  bool outcome_unknown() const {
    return failure == Failure::timeout || failure == Failure::connection_lost || failure == Failure::protocol;
  }
  // Failure, or the error reply's text, for logs.
  std::string error_text() const;
};

}  // namespace routemq::redis
