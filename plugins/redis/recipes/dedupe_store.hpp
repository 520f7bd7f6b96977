#pragma once
// Each id handled once within a window, across every process, in two phases so that a failure in the
// middle does not swallow the id for the whole window: a claim (held for a lease) before the work,
// "done" (kept for the window) after it succeeded, the claim released when it failed. "done" may keep
// the work's answers, so that a duplicate gets them again, and a claim may say what the id stands for
// (its content: a payload), so that the same id reused for other content is told apart.
//
//   redis::DedupeStore store(redis::manager(ctx), {.window = 1h, .lease = 30s});
//   auto claim = co_await store.claim("order:42", payload);
//   if (claim.outcome == redis::DedupeStore::Outcome::duplicate) co_return resend(claim.answers);
//   if (claim.outcome != redis::DedupeStore::Outcome::first) co_return;  // being handled, or reused
//   try { co_await work(); } catch (...) { store.release(claim); throw; }
//   co_await store.done(claim, answers);
//
// The marker is one key, dd:{<id>} under the manager's prefix (hash-tagged: one slot per decision):
//   c:<token>                claimed; <token> = <random>:<incarnation>:<fingerprint>:<owner>
//   p:<token>\0<replies>      the work's own writes landed with it (done_in), its answers follow;
//                            the work's replies are kept after the NUL (not on a cluster: p:<token>)
//   d:<fingerprint>:<answers>  done; the answers are bytes the caller gave (answers.hpp's encoding)
// The fingerprint is the SHA-1 of the content in hex, or empty when none was given. Markers an
// earlier version wrote ("done", "claim:...") read as done without answers, and as a claim.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

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
    // An empty owner: claims are only ever given up by their lease. No NUL byte (the constructor throws).
    std::string owner{};
    std::string incarnation = process_incarnation();
  };
  // Random, made once per process.
  static const std::string& process_incarnation();
  enum class Outcome {
    first,        // claimed: do the work, then done() or release()
    duplicate,    // done within the window: skip, or answer again with `answers`
    in_flight,    // another claim holds it (after waiting, if asked): skip, or try later
    id_reused,    // the id was claimed or done for other content: refuse it
    unavailable,  // Redis did not answer: the caller decides (see middleware/dedupe.hpp)
  };
  struct Claim {
    std::string id{};
    Outcome outcome = Outcome::unavailable;
    std::string token{};        // this claim's, when first
    std::string fingerprint{};  // of the content claim() was given (hex; empty: none)
    bool taken_over = false;  // first, over a claim an earlier incarnation of the owner left
    // duplicate: the answers done() kept (empty when none), or answers_lost: the work's writes landed
    // (done_in) but its process died before its answers were kept.
    std::string answers{};
    bool answers_lost = false;
    // first (taken over): the work of this id was stored by a process that died before its answers
    // were kept, with its pipeline's replies kept (done_in with answers_follow): done_in() then
    // answers the pipeline from them instead of running it, so the work's answers can be made again.
    std::string kept_replies{};
  };

  // The manager must outlive the store and the releases it starts.
  DedupeStore(RedisManager& redis, Options options);

  // `content`: what the id stands for (a payload); empty: the id alone decides.
  awaitable<Claim> claim(std::string id, std::string_view content = {});
  // Marks a first claim done for the window, keeping `answers` for its duplicates; false when Redis did
  // not take it, or another claim took over after this one's lease ran out.
  awaitable<bool> done(Claim claim, std::string answers = {});
  // The same without waiting (a failure is logged): the work is over, and a copy arriving meanwhile
  // still meets the claim (in_flight), so nothing needs to wait for the marker.
  void done_in_background(Claim claim, std::string answers = {}) const;
  // After done_in(pipe, claim, true) landed with the work: keeps the answers and makes the id done,
  // without waiting. One plain SET, no compare: the marker is this claim's "p:", which nobody else
  // takes over while this process lives (only its owner's next incarnation does, after it died).
  void keep_answers_in_background(Claim claim, std::string answers) const;
  // Gives a first claim its whole lease again, without waiting, while it is still this claim (not yet
  // done, nor taken over): for work that outlasts part of the lease (middleware/claim_renewer.hpp).
  void extend_in_background(const Claim& claim) const;
  // Gives a first claim up without waiting, so a redelivery can be handled at once; for a failed
  // handler, whose error must propagate now. Only this claim's (compare-and-delete); once done_in()'s
  // marker landed, the work's writes are stored: the id becomes done (without answers) instead.
  void release(const Claim& claim) const;
  // Queues the marker for a first claim in `pipe` (a plain SET, no compare: the pipeline's writes are
  // this claim's work, and they land with the marker), so a crash cannot leave the work done without
  // the marker, and the broker's redelivered copy handled a second time. With `answers_follow`, the
  // marker waits for done() or done_in_background() to keep the answers (a copy meeting it meanwhile
  // is in flight), and the pipeline runs as one script that writes the marker with its replies in it
  // (Pipeline::keep_replies_in; not on a cluster): after a crash before the answers were kept, the
  // next copy gets the claim with kept_replies, and its handler answers again from them. Without
  // kept replies (a cluster), that copy is a duplicate with answers_lost. Otherwise the marker is "done".
  void done_in(Pipeline& pipe, const Claim& claim, bool answers_follow = false) const;
  // Where the store's Redis runs (for work started on its behalf).
  asio::io_context& io_context() const;

 private:
  std::string marker(const std::string& id) const;

  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
  Options options_;
};

const char* to_string(DedupeStore::Outcome outcome);

}  // namespace routemq::redis
