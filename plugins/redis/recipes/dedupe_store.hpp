#pragma once
// Each id handled once within a window, across every process, in two phases so that a failure in the
// middle does not swallow the id for the whole window: a claim (held for a lease) before the work,
// "done" (kept for the window) after it succeeded, the claim released when it failed.
//
//   redis::DedupeStore store(redis::manager(ctx), {.window = 1h, .lease = 30s});
//   auto claim = co_await store.claim("order:42");
//   if (claim.outcome != redis::DedupeStore::Outcome::first) co_return;  // seen, or being handled
//   try { co_await work(); } catch (...) { store.release(claim); throw; }
//   co_await store.done(claim);
//
// The marker is one key, dd:{<id>} under the manager's prefix (hash-tagged: one slot per decision):
// "done", or "claim:<token>:<incarnation>:<owner>".
#include <chrono>
#include <memory>
#include <string>

#include "core/asio.hpp"

namespace routemq::redis {

class Pipeline;
class RedisManager;

class DedupeStore {
 public:
  struct Options {
    std::chrono::milliseconds window{std::chrono::hours(1)};  // how long "done" is remembered
    std::chrono::milliseconds lease{std::chrono::seconds(30)};  // how long a claim holds without done
    // A claim meeting another one in flight waits up to this long for its outcome (0: answer at once).
    std::chrono::milliseconds wait_for_in_flight{0};
    // Who claims: an owner that outlives a process (the MQTT client id of a kept session) and this
    // process's incarnation. A claim left by an earlier incarnation of the same owner is taken over at
    // once: that process died (the broker delivers a kept session's unacknowledged messages again only
    // to its next connection), and its claim would otherwise hold the copy back for the whole lease.
    // An empty owner: claims are only ever given up by their lease.
    std::string owner{};
    std::string incarnation = process_incarnation();
  };
  // Random, made once per process.
  static const std::string& process_incarnation();
  enum class Outcome {
    first,        // claimed: do the work, then done() or release()
    duplicate,    // done within the window: skip
    in_flight,    // another claim holds it (after waiting, if asked): skip, or try later
    unavailable,  // Redis did not answer: the caller decides (see middleware/dedupe.hpp)
  };
  struct Claim {
    std::string id;
    Outcome outcome = Outcome::unavailable;
    std::string token;  // this claim's, when first
    bool taken_over = false;  // first, over a claim an earlier incarnation of the owner left
  };

  // The manager must outlive the store and the releases it starts.
  DedupeStore(RedisManager& redis, Options options);

  awaitable<Claim> claim(std::string id);
  // Marks a first claim done for the window; false when Redis did not take it, or another claim took
  // over after this one's lease ran out.
  awaitable<bool> done(Claim claim);
  // The same without waiting (a failure is logged): the work is over, and a copy arriving meanwhile
  // still meets the claim (in_flight), so nothing needs to wait for the marker.
  void done_in_background(Claim claim) const;
  // Gives a first claim up (compare-and-delete: only this claim's) without waiting, so a redelivery
  // can be handled at once; for a failed handler, whose error must propagate now.
  void release(const Claim& claim) const;
  // Queues "done" for a first claim in `pipe` (a plain SET, no compare: the pipeline's writes are this
  // claim's work, and they land with the marker), so a crash cannot leave the work done without the
  // marker, and the broker's redelivered copy handled a second time.
  void done_in(Pipeline& pipe, const Claim& claim) const;
  // Where the store's Redis runs (for work started on its behalf).
  asio::io_context& io_context() const;

 private:
  std::string marker(const std::string& id) const;

  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
  Options options_;
};

const char* to_string(DedupeStore::Outcome outcome);

}  // namespace routemq::redis
