#pragma once
// The promise to acknowledge one received message once it has been handled, whatever the outcome
// (handled, rejected, failed, skipped, unmatched): it acknowledges when destroyed, so it moves with the
// message through routing, ordering and handling and cannot be forgotten on an early return.
//
// A QoS 1/2 message whose acknowledgement never went (the process died) is delivered again by the
// broker: that is what makes a crash lose nothing [MQTT-4.4.0-1]. The client may be gone before a
// handler abandoned at shutdown finishes: the target is held weakly, and a late acknowledgement is a
// no-op.
#include <cstdint>
#include <memory>
#include <utility>

namespace routemq {

class AcknowledgementTarget {
 public:
  virtual ~AcknowledgementTarget() = default;
  // From any thread; `sequence` is the one the client gave with the message.
  virtual void acknowledge(std::uint64_t sequence) = 0;
};

class Acknowledgement {
 public:
  Acknowledgement() = default;  // acknowledges nothing (Paho acknowledged on arrival; in-process delivery)
  Acknowledgement(std::weak_ptr<AcknowledgementTarget> target, std::uint64_t sequence)
      : target_(std::move(target)), sequence_(sequence) {}
  ~Acknowledgement() { send(); }
  Acknowledgement(Acknowledgement&& other) noexcept
      : target_(std::exchange(other.target_, {})), sequence_(other.sequence_) {}
  Acknowledgement& operator=(Acknowledgement&& other) noexcept {
    if (this != &other) {
      send();
      target_ = std::exchange(other.target_, {});
      sequence_ = other.sequence_;
    }
    return *this;
  }
  Acknowledgement(const Acknowledgement&) = delete;
  // Lets go without acknowledging: a message the app will not handle (shutting down) is delivered again.
  void withhold() { target_.reset(); }
  Acknowledgement& operator=(const Acknowledgement&) = delete;

 private:
  void send() {
    if (auto target = target_.lock()) target->acknowledge(sequence_);
    target_.reset();
  }
  std::weak_ptr<AcknowledgementTarget> target_;
  std::uint64_t sequence_ = 0;
};

}  // namespace routemq
