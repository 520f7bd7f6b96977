#pragma once
// Keeps dedupe's claims alive while their messages are being handled. The lease can then be short, so
// that the claim of an instance that died (and never comes back to take it over) frees its id within a
// lease, not the long one a slow handler would otherwise need. A claim held longer than a third of the
// lease is extended every third of it. One loop per middleware while claims are held, none when idle:
// no timer per message.
//
//   ClaimRenewer renewer(lease);
//   auto held = renewer.hold(store, claim);   // store and claim outlive `held`
//   co_await next();                          // extended meanwhile, when it takes long
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "plugins/redis/recipes/dedupe_store.hpp"

namespace routemq::middleware {

class ClaimRenewer {
 public:
  struct State;  // claim_renewer.cpp's

  explicit ClaimRenewer(std::chrono::milliseconds lease);

  // Extends `claim` through `store` until destroyed.
  class Held {
   public:
    Held(std::shared_ptr<State> state, std::uint64_t id) : state_(std::move(state)), id_(id) {}
    ~Held();
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    std::shared_ptr<State> state_;
    std::uint64_t id_;
  };
  [[nodiscard]] Held hold(const redis::DedupeStore& store, const redis::DedupeStore::Claim& claim);

 private:
  std::shared_ptr<State> state_;
};

}  // namespace routemq::middleware
