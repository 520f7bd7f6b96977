#pragma once
#include <stdexcept>

namespace routemq {

// Thrown by a handler (or by Context::json()) when a message's payload is unacceptable.
// The app counts it as "rejected", logs it and goes on serving; it is not a handler failure.
struct InvalidPayload : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace routemq
