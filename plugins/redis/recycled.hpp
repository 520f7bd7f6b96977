#pragma once
// Storage for what every command allocates and frees again (a suspended caller, a cluster's pending
// request, the buffer a command is encoded into): freed blocks are kept by the thread that freed them
// and handed out again, the most recently freed first (still in cache). glibc keeps 7 freed blocks
// per size and thread; a burst of replies frees hundreds at once, and the rest went through its
// slower bins: a quarter of the client's instructions per command on the cluster benchmark.
// Internal to plugins/redis/.
//
//   auto pending = make_recycled<Pending>();  // as std::make_shared, and as cheap as a free list
//
// Under AddressSanitizer nothing is kept: every block is freed, so a use after free stays visible.
#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace routemq::redis {

// How many of a kind one thread keeps: a burst of replies may complete every caller at once. (The
// list of a block size is 8 KiB of thread-local storage per thread.)
#if defined(__SANITIZE_ADDRESS__)
inline constexpr std::size_t kept_per_thread = 0;
#else
inline constexpr std::size_t kept_per_thread = 1024;
#endif

// The freed blocks of one size on one thread.
template <std::size_t Size>
class BlockCache {
 public:
  static void* take() {
    auto& blocks = stack();
    if (blocks.count > 0) return blocks.at[--blocks.count];
    return ::operator new(Size);
  }

  static void give(void* block) {
    auto& blocks = stack();
    if (blocks.count == kept_per_thread || blocks.closed) return ::operator delete(block);
    thread_local Reaper reaper;  // built with the first kept block: frees them all when the thread ends
    blocks.at[blocks.count++] = block;
  }

 private:
  // Trivially destroyed, so a block freed by another thread-local's destructor after the reaper ran
  // still finds it (closed, and frees the block itself).
  struct Stack {
    void* at[kept_per_thread == 0 ? 1 : kept_per_thread];
    std::size_t count;
    bool closed;
  };
  struct Reaper {
    ~Reaper() {
      auto& blocks = stack();
      blocks.closed = true;
      while (blocks.count > 0) ::operator delete(blocks.at[--blocks.count]);
    }
  };
  static Stack& stack() {
    thread_local constinit Stack blocks{};
    return blocks;
  }
};

// A standard allocator over BlockCache, for one object at a time (std::allocate_shared's use) and for
// the blocks of a std::deque (a request queue's: libstdc++ gives a deque's elements 512 bytes at a
// time, so a queue of 128-byte entries allocated and freed a block every fourth request: at most
// kept_per_thread of them are kept, 512 KiB per thread at worst). Any other count goes to
// std::allocator.
template <class T>
struct Recycled {
  using value_type = T;
  Recycled() = default;
  template <class U>
  Recycled(const Recycled<U>&) {}

  // Elements in one of libstdc++'s deque blocks (its __deque_buf_size); with another library the
  // counts differ and its blocks go to std::allocator, unrecycled but correct.
  static constexpr std::size_t deque_block = sizeof(T) < 512 ? 512 / sizeof(T) : 1;

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "BlockCache's blocks have new's alignment");
    if (n == 1) return static_cast<T*>(BlockCache<sizeof(T)>::take());
    if (n == deque_block) return static_cast<T*>(BlockCache<sizeof(T) * deque_block>::take());
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* block, std::size_t n) {
    if (n == 1) return BlockCache<sizeof(T)>::give(block);
    if (n == deque_block) return BlockCache<sizeof(T) * deque_block>::give(block);
    std::allocator<T>().deallocate(block, n);
  }

  template <class U>
  friend bool operator==(const Recycled&, const Recycled<U>&) { return true; }
};

template <class T, class... Args>
std::shared_ptr<T> make_recycled(Args&&... args) {
  return std::allocate_shared<T>(Recycled<T>(), std::forward<Args>(args)...);
}

// The strings commands are encoded into: taken by the encoder, given back where a command ends (its
// queue entry, or a cluster's pending request), so one command's buffer serves a later one's. At
// most kept_per_thread buffers of at most 1 KiB each are kept: 1 MiB per thread at worst.
class RecycledBytes {
 public:
  // Into an empty `bytes`: the buffer of a string given back on this thread, when there is one.
  static void take(std::string& bytes) {
    if (closed) return;
    auto& strings = list();
    if (strings.empty()) return;
    bytes = std::move(strings.back());  // a move, not a swap: std::string's swap handles every SSO case
    strings.pop_back();
    bytes.clear();
  }
  // Kept when it holds a buffer of an ordinary command's size and there is room; freed otherwise.
  static void give(std::string&& bytes) {
    if (closed || bytes.capacity() <= std::string().capacity() || bytes.capacity() > largest) return;
    auto& strings = list();
    if (strings.size() < kept_per_thread) strings.push_back(std::move(bytes));
  }

 private:
  static constexpr std::size_t largest = 1024;  // a big value's buffer is not hoarded
  // Set by the list's destructor at the thread's end: a string given back after it is freed at once.
  static inline thread_local constinit bool closed = false;
  struct List {
    std::vector<std::string> strings;
    ~List() { closed = true; }
  };
  static std::vector<std::string>& list() {
    thread_local List list;
    return list.strings;
  }
};

}  // namespace routemq::redis
