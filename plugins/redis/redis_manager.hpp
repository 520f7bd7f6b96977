#pragma once
// The RedisManager: every Redis command as a coroutine with the command's own name and argument order,
// typed results, the key prefix applied to every key, and no exceptions into handlers.
//
//   auto& redis = redis::manager(ctx);              // in a handler; redis::redis_manager() elsewhere
//   co_await redis.set("device:42", "on", {.ex = 60s});
//   std::optional<std::string> value = co_await redis.get("device:42");
//
// Degrading: while Redis is disabled or down, every method completes at once (no socket wait) with
// its documented default (get -> nullopt, set -> false, del -> 0, exists -> false, ttl -> -2,
// incr -> nullopt, lists -> empty ...). Callers that must tell "miss" from "unavailable" use
// command()/eval()/pipeline(), whose Result says which, or check is_connected().
//
// Threads: connections run on the manager's own io thread, or on a strand of an io_context you give
// it; a coroutine resumes on its own executor. run_sync() is the blocking facade for code outside
// coroutines (not on a thread running the manager's io_context).
//
// Scoped views (multi-tenancy): redis.scoped("tenant:42:") is a RedisManager whose every key, script
// key, scan and invalidation lives under one more prefix, optionally with its own codec and default
// TTL, sharing the manager's connections. A view cannot name a key outside itself: raw access
// (command, pipeline, transaction), whose keys it cannot tell from other arguments, is refused on a
// view. Pub/Sub channels are not keys and are not scoped.
#include <chrono>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <typeindex>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "core/asio.hpp"
#include "plugins/redis/batch.hpp"
#include "plugins/redis/codec.hpp"
#include "plugins/redis/commands/commands.hpp"
#include "plugins/redis/keyring.hpp"
#include "plugins/redis/leased_connection.hpp"
#include "plugins/redis/message_handler.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/protocol/result.hpp"
#include "plugins/redis/cache_stats.hpp"
#include "plugins/redis/redis_config.hpp"
#include "plugins/redis/script.hpp"

namespace routemq::redis {

struct Engine;
class Connection;
struct Request;
class Completion;
class FallbackCache;

// A stored JSON value: the value, nothing (missing or unavailable), or a decode error to report.
using JsonValue = Decoded;

// What a scoped view changes besides the prefix; unset fields are the parent's.
struct ScopeOptions {
  std::optional<Codec> codec{};
  std::optional<std::chrono::seconds> default_ttl{};
  // The value recipes' bytes sealed with the manager's encryption key (keyring.hpp), bound to the key
  // they are stored under: what redis.encrypt_values does for the whole manager.
  std::optional<bool> encrypt_values{};
};

// A cluster's master (or a replica read from) and how many of our connections to it are ready (0: its
// slots are unavailable).
struct ClusterNodeStats {
  std::string address;
  std::size_t connections_ready = 0;
};

struct RedisStatsSnapshot {
  std::string state;  // disabled | connecting | connected | down
  std::string last_failure;  // the last connection failure in words (TLS failures explained); empty before any
  std::string master;        // with Sentinel: the master's address now ("" while none is known)
  std::uint64_t failovers = 0;  // with Sentinel: moves of the master followed (reached, not only named)
  std::uint64_t redirects = 0, slot_refreshes = 0;  // with a cluster: MOVED and ASK followed, slot maps learned
  std::vector<ClusterNodeStats> cluster_masters;    // with a cluster: every master known
  // With redis.read_from a replica: the replicas read from, read-only commands sent to one, and those
  // sent to the master instead, no replica of it being ready.
  std::vector<ClusterNodeStats> replicas;
  std::uint64_t replica_reads = 0, replica_fallbacks = 0;
  std::uint64_t commands = 0, errors = 0, unavailable = 0, timeouts = 0, connection_failures = 0, reconnects = 0;
  std::uint64_t hits = 0, misses = 0;
  double hit_rate = 0;
  double p50_us = 0, p99_us = 0;
  std::size_t connections_ready = 0;
  // redis.fallback_cache, when on: values answered from it and plain sets kept in it during outages,
  // and the values it holds now.
  std::optional<std::uint64_t> fallback_served, fallback_kept_offline;
  std::size_t fallback_entries = 0;
};

// What the server looks like, for operators (`routemq redis stats`) and dashboards. On a cluster, the
// sum of its masters: whole-number fields and counts added up, other fields the first master's.
struct ServerView {
  bool available = false;
  std::size_t servers = 0;                // the servers that answered: 1, or a cluster's masters
  std::vector<std::string> unanswered;    // a cluster's masters that did not (down, or no slot now)
  std::map<std::string, std::string> memory;  // INFO memory fields (used_memory, maxmemory ...)
  // INFO stats and keyspace: what the server counts for all its clients, beside stats() (this client).
  std::map<std::string, std::string> server_stats;  // total_commands_processed, keyspace_hits ...
  long long commands_processed = 0;
  double server_hit_rate = 0;  // keyspace hits over hits and misses, every client's; 0 before any
  long long total_keys = 0;    // in every db (INFO keyspace)
  long long dbsize = 0;        // keys in the selected db, prefix or not
  long long connected_clients = 0;  // INFO clients: every client's connections, ours included
  // Key type -> count over the keys under the prefix, found by SCAN up to `sample` of them: all of
  // them when `sample_complete`, and then `keys_under_prefix` is their number.
  std::map<std::string, long long> types;
  std::size_t sampled = 0;
  bool sample_complete = false;
  std::optional<long long> keys_under_prefix;
};

// One key as seed 002's get_key_info describes it.
struct KeyInfo {
  std::string type;                        // string, hash, list ...
  long long ttl_ms = -1;                   // -1: no expiry
  std::optional<long long> memory_bytes;   // MEMORY USAGE (nullopt where the server refuses it)
  std::string encoding;                    // OBJECT ENCODING: listpack, hashtable, int, embstr ...
};

// Keys listed with a limit: `limit_reached` when more keys match, `interrupted` when Redis stopped
// answering before the scan finished.
struct KeyList {
  std::vector<std::string> names;
  bool limit_reached = false;
  bool interrupted = false;
  bool complete() const { return !limit_reached && !interrupted; }
};

// One SCAN page: the names (without the prefix; a key may appear in two pages, as SCAN promises) and
// the cursor to continue from; done when Redis says the scan is over.
struct ScanPage {
  std::vector<std::string> names;
  std::string cursor;
  bool done() const { return cursor == "0"; }
};

class RedisManager {
 public:
  // Seed 001's RedisManager(): configured from the environment (ENABLE_REDIS, REDIS_* and a .env
  // file, as the plugin reads them), connecting at start() or initialize(); said once in the log
  // when Redis is disabled. Connections on an io thread of the manager's own.
  RedisManager();
  // Connections on an io thread of the manager's own; callers on any thread. RedisConfig{}: disabled.
  explicit RedisManager(RedisConfig config);
  // Connections on a strand of `io`: coroutines running on `io` reach Redis and resume without
  // crossing a thread (the fastest way, see docs/benchmarks.md). `io` must outlive the manager, and
  // run_sync() cannot be called on a thread that runs `io`.
  RedisManager(RedisConfig config, asio::io_context& io);
  ~RedisManager();
  RedisManager(const RedisManager&) = delete;
  RedisManager& operator=(const RedisManager&) = delete;
  RedisManager(RedisManager&&) noexcept;
  RedisManager& operator=(RedisManager&&) noexcept;

  // A view under `prefix` (appended to this manager's or view's prefix), sharing the connections.
  // Cheap: make one per message if that is convenient.
  RedisManager scoped(std::string_view prefix, ScopeOptions options = {}) const;
  bool is_scoped() const { return !scope_prefix_.empty(); }

  // Replaces the settings from the next start() or initialize() on: until then every command, on
  // any thread, goes on with the settings in effect (prefix, TTL, codec, encryption key), whole.
  // Thread-safe. Settings, connections and start()/disconnect() are shared by a manager and all its
  // views. Throws std::invalid_argument on an encryption key that does not parse, changing nothing.
  void configure(RedisConfig config);
  // The settings in effect: the last start()'s (before any, the constructor's).
  const RedisConfig& config() const;
  // The codec of the value recipes (CodecValues, CacheAside, ValuesWithMetadata ...): a view's own or
  // set_codec()'s, else the settings' (redis.codec).
  const Codec& codec() const;
  void set_codec(Codec codec);
  // Whether those values, and sessions' fields, are encrypted (the view's, else redis.encrypt_values).
  bool encrypts_values() const;

  // Starts connecting in the background when configured; returns is_configured(). Never blocks: a
  // Redis that is down is connected to later, by itself. What the plugin does at start-up.
  bool start();
  // Seed 001's initialize(): start() unless already started with these settings (a live connection,
  // and the commands in flight on it, are left alone), then wait for the first connection (on a
  // cluster: one to every master) up to the connect timeout, or the first failed attempt; true when
  // connected. A Redis down now is still connected to later. This one blocks: on a thread running
  // the manager's io_context it throws std::logic_error (it would wait for itself).
  bool initialize();
  // The same awaited, as seed 001's `await initialize()`: co_await redis.initialize(asio::use_awaitable).
  // Never blocks a thread, its own io thread included.
  awaitable<bool> initialize(const asio::use_awaitable_t<>&);
  // Closes every connection; commands are "unavailable" until start() or initialize() again.
  void disconnect();
  // Seed 001's is_enabled(): enabled in the settings and connected now, i.e. worth calling. Guard
  // code ported from RouteMQ with it; is_configured() is the setting alone (ENABLE_REDIS).
  bool is_enabled() const { return is_configured() && is_connected(); }
  bool is_configured() const { return config().enabled; }
  // Configured for a Redis Cluster (redis.cluster.nodes): keys live in slots on several masters.
  bool on_cluster() const { return !config().cluster.nodes.empty(); }
  bool is_connected() const;
  // Waits up to `deadline` for a first connection, on a cluster one to every master (tests, start-up checks).
  bool wait_connected(std::chrono::milliseconds deadline) const;

  // The prefixed key: the manager's prefix, the scope's, then `name`.
  std::string key(std::string_view name) const;
  // Everything key() puts before a name.
  std::string prefix() const;
  // Removes the prefix from a key returned by Redis (scans).
  std::string strip_prefix(std::string_view key) const;
  // Where this manager's or view's keys live, for the command factories (commands/commands.hpp).
  KeySpace key_space() const;

  // ---- any typed command (commands/commands.hpp): the path every method below takes. Its value, or
  // its documented default when there is no usable reply; while Redis is unavailable, at once.
  // Commands that need a connection of their own (BLPOP) are refused here: use their method.
  template <class T>
  awaitable<T> run(Command<T> command);
  // The same without waiting: nothing resumes, the reply is read where it arrives, and a failure (no
  // reply, an error reply) is logged as `what`. No coroutine and no hop to a caller: for a write
  // whose outcome nobody waits for (dedupe's answers after the handler).
  template <class T>
  void run_detached(Command<T> command, std::string what) const;

  // ---- raw access: the Result tells reply, error reply, unavailable, timeout ... Refused on a view.
  // Commands that would change or hold a connection every caller shares (SELECT, WATCH, BLPOP ...:
  // protocol/command_policy.hpp) are refused here, before anything is sent: run them on lease().
  awaitable<Result> command(std::vector<std::string> args);
  awaitable<std::vector<Result>> pipeline(const Batch& batch);
  // MULTI ... EXEC as one request: the EXEC reply (an array), or nil when the transaction aborted.
  awaitable<Result> transaction(const Batch& batch);
  // A connection of the caller's own for those (leased_connection.hpp), closed when the lease goes.
  LeasedConnection lease(LeaseOptions options = {});
  // EVALSHA, then EVAL on NOSCRIPT. Keys are prefixed.
  awaitable<Result> eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args);
  // The script in the background, on a handle of its own (this manager or view may go first), its
  // result dropped: for work a destructor cannot wait for (a lock's release). `script` must live on.
  void eval_detached(const Script& script, std::vector<std::string> keys, std::vector<std::string> args) const;
  awaitable<bool> ping();

  // ---- strings and counters. Where values are encrypted (redis.encrypt_values, a view's
  // .encrypt_values), get/set/setex/getdel and the JSON values are sealed and opened with the key as
  // context (a value that does not open reads as nothing, counted in cache_stats().decode_failures);
  // counters, lists, hashes and the rest are stored as given.
  awaitable<std::optional<std::string>> get(std::string_view key);
  awaitable<bool> set(std::string_view key, std::string_view value, SetOptions options = {});
  awaitable<bool> setex(std::string_view key, std::chrono::seconds ttl, std::string_view value);
  awaitable<std::optional<std::string>> getdel(std::string_view key);
  awaitable<long long> append(std::string_view key, std::string_view value);
  awaitable<std::optional<long long>> incr(std::string_view key);
  awaitable<std::optional<long long>> incrby(std::string_view key, long long by);
  awaitable<std::optional<double>> incrbyfloat(std::string_view key, double by);
  awaitable<std::optional<long long>> decr(std::string_view key);
  awaitable<std::optional<long long>> decrby(std::string_view key, long long by);
  awaitable<std::vector<std::optional<std::string>>> mget(std::vector<std::string> keys);
  // All or none (one MULTI/EXEC), each key with `ttl` (default: the default TTL): seed 003's set_many.
  // On a cluster, keys in several slots cannot be all or none: each is SET with its TTL, all sent at
  // once; true when every one was stored. A `ttl` of zero or less is refused (false, logged, nothing
  // sent): Redis would store the keys and delete them at once.
  awaitable<bool> mset(std::vector<std::pair<std::string, std::string>> pairs,
                       std::optional<std::chrono::seconds> ttl = std::nullopt);
  awaitable<long long> strlen(std::string_view key);

  // ---- keys
  awaitable<long long> del(std::vector<std::string> keys);
  awaitable<long long> unlink(std::vector<std::string> keys);
  awaitable<bool> exists(std::string_view key);
  awaitable<bool> expire(std::string_view key, std::chrono::seconds ttl);
  awaitable<bool> pexpire(std::string_view key, std::chrono::milliseconds ttl);
  awaitable<long long> ttl(std::string_view key);   // -2 missing (or unavailable), -1 no expiry
  awaitable<long long> pttl(std::string_view key);
  awaitable<bool> persist(std::string_view key);
  awaitable<bool> rename(std::string_view key, std::string_view new_key);
  awaitable<std::string> type(std::string_view key);  // "none" when missing or unavailable
  // Type, TTL, memory and encoding in one round trip; nullopt when missing or unavailable.
  awaitable<std::optional<KeyInfo>> key_info(std::string_view key);
  // ---- key listing: by SCAN, never KEYS (the server is not blocked); prefix applied and stripped.
  // Every key matching the glob. All of them: a pattern matching a million keys returns a million
  // names (page with scan() instead). Redis stopping midway: what was found, and a warning logged.
  awaitable<std::vector<std::string>> keys(std::string_view pattern);
  // At most `limit` keys; the list says when that limit cut it short, or Redis stopped answering.
  awaitable<KeyList> keys(std::string_view pattern, std::size_t limit);
  // One page: start with cursor "0" and go on with each page's cursor until done. nullopt: Redis
  // did not answer (resume from the same cursor).
  awaitable<std::optional<ScanPage>> scan(std::string_view pattern, std::string cursor = "0");

  // ---- hashes
  awaitable<long long> hset(std::string_view key, std::string_view field, std::string_view value);
  awaitable<long long> hset(std::string_view key, const std::map<std::string, std::string>& mapping);
  awaitable<std::optional<std::string>> hget(std::string_view key, std::string_view field);
  awaitable<std::vector<std::optional<std::string>>> hmget(std::string_view key, std::vector<std::string> fields);
  awaitable<std::map<std::string, std::string>> hgetall(std::string_view key);
  awaitable<long long> hdel(std::string_view key, std::vector<std::string> fields);
  awaitable<bool> hexists(std::string_view key, std::string_view field);
  awaitable<std::vector<std::string>> hkeys(std::string_view key);
  awaitable<std::vector<std::string>> hvals(std::string_view key);
  awaitable<long long> hlen(std::string_view key);
  awaitable<std::optional<long long>> hincrby(std::string_view key, std::string_view field, long long by);

  // ---- lists
  awaitable<long long> lpush(std::string_view key, std::vector<std::string> values);
  awaitable<long long> rpush(std::string_view key, std::vector<std::string> values);
  awaitable<std::optional<std::string>> lpop(std::string_view key);
  awaitable<std::optional<std::string>> rpop(std::string_view key);
  awaitable<long long> llen(std::string_view key);
  awaitable<std::optional<std::string>> lindex(std::string_view key, long long index);
  awaitable<std::vector<std::string>> lrange(std::string_view key, long long start, long long stop);
  awaitable<bool> ltrim(std::string_view key, long long start, long long stop);
  // On a dedicated connection (it blocks that connection): {key, value}, or nullopt on timeout.
  awaitable<std::optional<std::pair<std::string, std::string>>> blpop(std::vector<std::string> keys,
                                                                        std::chrono::seconds timeout);

  // ---- sets
  awaitable<long long> sadd(std::string_view key, std::vector<std::string> members);
  awaitable<long long> srem(std::string_view key, std::vector<std::string> members);
  awaitable<std::vector<std::string>> smembers(std::string_view key);
  awaitable<bool> sismember(std::string_view key, std::string_view member);
  awaitable<long long> scard(std::string_view key);
  awaitable<std::vector<std::string>> sunion(std::vector<std::string> keys);
  awaitable<std::vector<std::string>> sinter(std::vector<std::string> keys);
  awaitable<std::vector<std::string>> sdiff(std::vector<std::string> keys);

  // ---- sorted sets
  awaitable<long long> zadd(std::string_view key, std::vector<std::pair<double, std::string>> scored_members);
  awaitable<long long> zrem(std::string_view key, std::vector<std::string> members);
  awaitable<std::vector<std::string>> zrange(std::string_view key, long long start, long long stop);
  awaitable<std::vector<std::pair<std::string, double>>> zrange_withscores(std::string_view key, long long start,
                                                                          long long stop);
  awaitable<std::vector<std::string>> zrevrange(std::string_view key, long long start, long long stop);
  // min/max as Redis takes them: "1.5", "(1.5", "-inf", "+inf".
  awaitable<std::vector<std::string>> zrangebyscore(std::string_view key, std::string_view min, std::string_view max);
  awaitable<std::optional<long long>> zrank(std::string_view key, std::string_view member);
  awaitable<std::optional<double>> zscore(std::string_view key, std::string_view member);
  awaitable<long long> zcard(std::string_view key);
  awaitable<std::optional<double>> zincrby(std::string_view key, double by, std::string_view member);
  awaitable<long long> zremrangebyscore(std::string_view key, std::string_view min, std::string_view max);

  // ---- JSON values (set_json: false when not stored, also for strings that are not UTF-8)
  // With every SET option, as seed 001's set_json(key, value, ex, px, nx, xx): false also when NX/XX
  // did not set it.
  awaitable<bool> set_json(std::string_view key, const nlohmann::json& value, SetOptions options);
  awaitable<bool> set_json(std::string_view key, const nlohmann::json& value,
                           std::optional<std::chrono::seconds> ttl = std::nullopt);
  awaitable<JsonValue> get_json(std::string_view key);

  // ---- the counters of cache-aside and of stored values that could not be decoded (cache_stats.hpp):
  // this manager's or view's own; cache_stats_all_scopes() counts every view together.
  const CacheStats& cache_stats() const { return *cache_stats_; }
  const CacheStats& cache_stats_all_scopes() const;

  // ---- pub/sub (channels are not prefixed: they are not keys)
  awaitable<long long> publish(std::string_view channel, std::string_view message);
  // The message as JSON text; 0 (nothing sent) for a value that is not valid UTF-8.
  awaitable<long long> publish_json(std::string_view channel, const nlohmann::json& message);
  // Handlers run on the manager's strand (its io thread, or your io_context): keep them short or
  // post elsewhere. Subscriptions are restored after every reconnect. Several handlers may share a
  // channel, each message going to every one; each call returns the handle that ends it alone.
  Subscription subscribe(const std::string& channel, MessageHandler handler);
  Subscription subscribe(std::vector<std::string> channels, MessageHandler handler);
  Subscription subscribe(std::initializer_list<std::string> channels, MessageHandler handler);
  Subscription psubscribe(const std::string& pattern, MessageHandler handler);
  // Each payload parsed as JSON (bounded as MQTT payloads are); one that is not JSON is logged and
  // counted (cache_stats().decode_failures), its handler not called.
  using JsonMessageHandler = std::function<void(const std::string& channel, const nlohmann::json& message)>;
  Subscription subscribe_json(std::vector<std::string> channels, JsonMessageHandler handler);
  void unsubscribe(const Subscription& subscription);  // that handler only
  void unsubscribe(const std::string& channel);        // every handler of the channel
  void punsubscribe(const std::string& pattern);
  bool subscriptions_active() const;

  // ---- blocking facade: runs `operation` on the manager's io_context and waits for its result.
  template <class T>
  T run_sync(awaitable<T> operation) {
    ensure_not_io_thread();
    if constexpr (std::is_default_constructible_v<T>) {
      return asio::co_spawn(io_context(), std::move(operation), asio::use_future).get();
    } else {  // use_future needs a default value: carry it in an optional
      auto wrapped = [](awaitable<T> inner) -> awaitable<std::optional<T>> { co_return co_await std::move(inner); };
      return std::move(*asio::co_spawn(io_context(), wrapped(std::move(operation)), asio::use_future).get());
    }
  }

  // How the value recipes store a value: the codec, then (maybe) encryption.
  struct ValueFormat {
    Codec codec;
    bool encrypted = false;
  };

  // Another handle on this manager or view (same connections, scope, codec and counters) that keeps
  // them alive as long as it lives: what recipes hold, and what work that outlives a call (a
  // background reload, a lock's renewal, a write-behind queue) runs on.
  std::shared_ptr<RedisManager> share() const;
  // A handle that does not keep them alive: for background loops (a lock's renewal) that must end,
  // not linger, once every manager, view and recipe of these connections is gone.
  class Weak {
   public:
    explicit Weak(const RedisManager& of);  // what weak() returns
    std::shared_ptr<RedisManager> lock() const;  // null once they are gone

   private:
    std::weak_ptr<Engine> engine_;
    std::string scope_prefix_;
    std::optional<std::chrono::seconds> scope_ttl_;
    std::shared_ptr<const ValueFormat> format_;
    std::shared_ptr<CacheStats> cache_stats_;
  };
  Weak weak() const;


  RedisStatsSnapshot stats() const;
  // INFO memory, clients, stats and keyspace, DBSIZE (of every master, on a cluster), and the type
  // distribution of up to `sample` keys under the prefix (SCAN), saying whether that was all of them.
  awaitable<ServerView> server_view(std::size_t sample = 1000);
  ClientStats& raw_stats();
  asio::io_context& io_context();  // where the connections run: the manager's own, or the one you gave

  // ---- for recipes built on the manager (plugins/redis/recipes/, or your own)
  // The TTL a value gets when none is given: the view's, or redis.default_ttl; nullopt for none.
  std::optional<std::chrono::seconds> default_ttl() const;
  // A value as stored under `name`: the codec's bytes, sealed when values are encrypted. The error
  // names the codec's or the encryption's refusal.
  Encoded encode_stored(std::string_view name, const nlohmann::json& value) const;
  // The reverse, a failure counted (cache_stats().decode_failures) and logged with the key's name.
  Decoded decode_stored(std::string_view name, const std::string& bytes);
  // Bytes sealed for, and opened from, the key `name` (and `part` of it, such as a hash field), when
  // values are encrypted; as they are otherwise.
  // Sealing refuses (error set) only when values are encrypted and no encryption key is configured.
  Encoded seal_stored(std::string_view name, std::string_view part, std::string_view bytes) const;
  Decrypted open_stored(std::string_view name, std::string_view part, std::string bytes) const;
  // The keyring parsed from the settings: empty when no encryption_key is configured.
  std::shared_ptr<const Keyring> keyring() const;
  // One cache counter, in this view's cache_stats() and in cache_stats_all_scopes().
  void count_cache(std::atomic<std::uint64_t> CacheStats::*counter);
  // One value read as a hit or a miss, in stats(): for reads the commands' own counting misses.
  void count_read(bool hit);
  // The reads of a command's result as run() counts them (Command::reads()): for a command run
  // some other way (in a Pipeline).
  void count_reads(const Result& result, std::uint32_t reads);
  // What the recipes of one type share on this manager's engine, whatever handle or view they were
  // given (cache-aside's loads in flight). Built from the settings at first use; configure() drops
  // them. The engine knows none of their types.
  template <class State>  // constructible from const RedisConfig&
  std::shared_ptr<State> recipe_state() const {
    auto make = [](const RedisConfig& config) -> std::shared_ptr<void> { return std::make_shared<State>(config); };
    return std::static_pointer_cast<State>(recipe_state(typeid(State), make));
  }

 private:
  RedisManager(std::shared_ptr<Engine> engine, std::string scope_prefix, std::optional<std::chrono::seconds> scope_ttl,
               std::shared_ptr<const ValueFormat> format, std::shared_ptr<CacheStats> cache_stats);
  friend class LeasedConnection;  // its commands go through await_completion, on its own connection
  // A typed command's decoder and how many reads it counts, applied when its reply comes.
  template <class T>
  struct Decoding {
    T (*decode)(Result&&);
    std::uint32_t reads = 0;
  };
  // Where a request goes on a cluster: its keys' slot, any master (keyless), or, with neither said,
  // where the keys the cluster reads from its bytes say (raw commands, commands spanning slots).
  struct Route {  // the small fields together: it is carried in every command's awaitable frame
    Command<Result>::Slots command_slots;  // a typed pipeline's, over several slots
    std::optional<std::uint16_t> slot;
    bool keyless = false;
    bool read_only = false;  // a replica may answer it (redis.read_from)
  };
  // The one path to the shared connections: refused at once while nothing is connected, otherwise
  // queued with its route. The request itself is made at the end, in the connection's submit: moved
  // through the lambdas on the way, a whole Request cost a few percent of a GET.
  template <class T>
  awaitable<T> send(std::string&& bytes, std::size_t replies, Route route, Decoding<T> decoding);
  // The request send() and run_detached() hand to the connections.
  static Request request_to(std::string&& bytes, std::size_t replies, Route route, Completion completion);
  // Raw bytes, whose keys the cluster reads back (command(), pipeline(), transaction()).
  awaitable<Result> execute(std::string bytes, std::size_t replies);
  awaitable<std::vector<Result>> run_pipeline(const Batch& batch);
  awaitable<Result> run_transaction(const Batch& batch);
  bool fully_connected() const;
  // initialize()'s first step: started (or already running with these settings); false when disabled.
  bool started_for_initialize();
  // Where initialize() stands: connected, given up (a failed attempt since `failures_before`, or the
  // deadline), or still waiting.
  enum class Connecting { connected, failed, waiting };
  Connecting connecting(std::uint64_t failures_before, std::chrono::steady_clock::time_point give_up) const;
  // On a connection of its own (a lease), not the pool's.
  awaitable<Result> execute_on(std::shared_ptr<Connection> connection, std::string bytes, std::size_t replies);
  LeasedConnection open_lease(LeaseOptions options);  // without the view check: blpop() on a view
  // The refusal of a raw command that cannot run on the shared connections; nullopt when it can.
  std::optional<Result> refuse_unshareable(const std::vector<std::string>& command) const;
  enum class Statistics { recorded, skipped };  // in the commands count and latency percentiles, or not
  template <class T, class Submit>
  awaitable<T> await_completion(Submit&& submit, Statistics statistics, Decoding<T> decoding);
  bool one_slot(const std::vector<std::pair<std::string, std::string>>& pairs) const;
  awaitable<bool> mset_across_slots(std::vector<std::pair<std::string, std::string>> pairs,
                                    std::optional<std::chrono::seconds> expiry);
  Result refused_on_view(const char* what) const;
  // The bytes stored under `name` opened (as they are when values are not encrypted); a value that
  // does not open is counted (cache_stats().decode_failures) and logged, its error saying why.
  Decrypted open_value(std::string_view name, std::string bytes);
  awaitable<std::optional<std::string>> opened(std::string_view name, awaitable<std::optional<std::string>> read);
  // Through redis.fallback_cache (redis_fallback.cpp): `stored` as sent, sealed when encrypting.
  awaitable<std::optional<std::string>> read_or_local(FallbackCache& local, std::string name, bool take);
  awaitable<bool> write_or_local(FallbackCache& local, std::string name, std::string stored, SetOptions options);
  void forget_locally(const std::vector<std::string>& names);
  awaitable<bool> refused_sealing(std::string_view name, std::string error);
  using MakeRecipeState = std::shared_ptr<void> (*)(const RedisConfig&);
  std::shared_ptr<void> recipe_state(std::type_index type, MakeRecipeState make) const;
  // One SCAN page of the keys under the prefix matching the glob `pattern`, as full names; advances
  // `cursor` ("0" when done). nullopt when Redis gave no page.
  awaitable<bool> add_server_at(ServerView& view, std::optional<std::uint16_t> slot);
  awaitable<void> add_masters(ServerView& view);
  awaitable<std::optional<std::vector<std::string>>> scan_page(std::string_view pattern, std::string& cursor);
  void ensure_not_io_thread() const;

  std::shared_ptr<Engine> engine_;  // shared with every view
  std::string scope_prefix_;        // empty for the manager itself
  std::optional<std::chrono::seconds> scope_ttl_;
  std::shared_ptr<const ValueFormat> format_;  // null: the settings' codec and encryption, as in effect
  std::shared_ptr<CacheStats> cache_stats_;  // shared with handles from share()
};

// The process-wide manager (the design's singleton). While an app with the RedisPlugin exists, it is
// the manager that plugin built on the app's io_context (the first app's, when a process has several);
// outside an app (the `routemq redis` commands, a script) it is a standalone manager on an io thread of
// its own, configured from the environment as RedisManager() is and, when enabled, already connecting
// (start(): a Redis that is down is connected to later). In a handler, prefer redis::manager(ctx). Defined in
// redis_plugin.cpp; do not keep the reference beyond the app that provided it.
RedisManager& redis_manager();

}  // namespace routemq::redis
