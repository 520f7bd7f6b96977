// Recycled storage: a block or a string freed on a thread serves that thread's next one, never more
// are kept than the limit, and nothing is kept under AddressSanitizer (kept_per_thread is 0 there,
// and each case checks what that build promises instead).
#include <catch2/catch.hpp>

#include <deque>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugins/redis/recycled.hpp"

using routemq::redis::kept_per_thread;
using routemq::redis::make_recycled;
using routemq::redis::RecycledBytes;

namespace {

struct Payload {
  explicit Payload(int v) : value(v) {}
  int value;
  std::uint64_t padding[20]{};  // a size of its own: no other test's blocks in its cache
};

}  // namespace

TEST_CASE("recycled: an object freed is built in the same storage next, on the same thread") {
  auto first = make_recycled<Payload>(1);
  const void* where = first.get();
  first.reset();
  auto second = make_recycled<Payload>(2);
  CHECK(second->value == 2);
  if constexpr (kept_per_thread > 0) CHECK(second.get() == where);
}

TEST_CASE("recycled: a burst freed at once is handed out again, most recently freed first") {
  std::vector<std::shared_ptr<Payload>> burst;
  for (int i = 0; i < 100; ++i) burst.push_back(make_recycled<Payload>(i));
  std::set<const void*> freed;
  for (auto& payload : burst) freed.insert(payload.get());
  const void* last_freed = burst.back().get();
  burst.clear();  // frees front to back: the last one freed is burst[99]
  auto next = make_recycled<Payload>(7);
  if constexpr (kept_per_thread > 0) CHECK(next.get() == last_freed);
  std::vector<std::shared_ptr<Payload>> again;
  for (int i = 0; i < 99; ++i) again.push_back(make_recycled<Payload>(i));
  std::size_t reused = freed.count(next.get());
  for (auto& payload : again) reused += freed.count(payload.get());
  if constexpr (kept_per_thread > 0) CHECK(reused == 100);
}

TEST_CASE("recycled: no more than kept_per_thread blocks are kept, the rest are freed") {
  std::vector<std::shared_ptr<Payload>> many;
  for (std::size_t i = 0; i < kept_per_thread + 50; ++i) many.push_back(make_recycled<Payload>(static_cast<int>(i)));
  std::set<const void*> first_kept;
  for (std::size_t i = 0; i < kept_per_thread; ++i) first_kept.insert(many[i].get());
  many.clear();  // the first kept_per_thread go to the cache, the last 50 back to the allocator
  std::vector<std::shared_ptr<Payload>> again;
  std::size_t from_cache = 0;
  for (std::size_t i = 0; i < kept_per_thread; ++i) {
    again.push_back(make_recycled<Payload>(0));
    from_cache += first_kept.count(again.back().get());
  }
  CHECK(from_cache == kept_per_thread);
}

TEST_CASE("recycled: each thread keeps its own blocks and frees them when it ends") {
  const void* on_other = nullptr;
  std::thread([&on_other] {
    auto payload = make_recycled<Payload>(3);
    on_other = payload.get();
    payload.reset();
    auto again = make_recycled<Payload>(4);
    if constexpr (kept_per_thread > 0) CHECK(again.get() == on_other);
  }).join();  // its cache is freed here (LeakSanitizer would see it kept)
  auto here = make_recycled<Payload>(5);
  CHECK(here->value == 5);
}

TEST_CASE("recycled: a deque's blocks freed as it drains serve its next elements on the thread") {
  struct Entry {
    char bytes[128];
  };
  static_assert(Recycled<Entry>::deque_block == 4);  // libstdc++: 512 bytes a block
  std::deque<Entry, Recycled<Entry>> queue;
  for (int i = 0; i < 5; ++i) queue.emplace_back();  // the first block full, one in a second
  const Entry* in_first_block = &queue.front();
  for (int i = 0; i < 4; ++i) queue.pop_front();  // the first block, given back
  // Had it gone back to malloc, this would take it (glibc hands out the block freed last).
  const auto elsewhere = std::make_unique<char[]>(512);
  for (int i = 0; i < 7; ++i) queue.emplace_back();  // past the second block: a new one
  bool reused = false;
  for (const auto& entry : queue) reused = reused || &entry == in_first_block;
  if constexpr (kept_per_thread > 0) CHECK(reused);
  CHECK(queue.size() == 8);
}

TEST_CASE("recycled bytes: a command's buffer given back serves the next encoding on the thread") {
  std::string used(200, 'x');
  const char* buffer = used.data();
  RecycledBytes::give(std::move(used));
  std::string next;
  RecycledBytes::take(next);
  CHECK(next.empty());
  if constexpr (kept_per_thread > 0) {
    CHECK(next.data() == buffer);
    CHECK(next.capacity() >= 200);
  }
}

TEST_CASE("recycled bytes: short strings (no buffer) and big values' buffers are not kept") {
  std::string big(64 * 1024, 'v');
  const char* big_buffer = big.data();
  RecycledBytes::give(std::move(big));
  RecycledBytes::give(std::string("short"));
  std::string next;
  RecycledBytes::take(next);
  CHECK(next.data() != big_buffer);
  CHECK(next.capacity() < 64 * 1024);
}
