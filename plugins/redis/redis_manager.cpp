#include "plugins/redis/redis_manager.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/json/bounded_json.hpp"
#include "core/net/tls_context.hpp"
#include "plugins/redis/cluster/cluster_pool.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/connection/connection_pool.hpp"
#include "plugins/redis/engine.hpp"
#include "plugins/redis/keyring.hpp"
#include "plugins/redis/protocol/command_policy.hpp"
#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/protocol/node_address.hpp"
#include "plugins/redis/recycled.hpp"
#include "plugins/redis/sentinel/master_locator.hpp"
#include "plugins/redis/sentinel/sentinel_pool.hpp"
#include "plugins/redis/subscriber.hpp"

namespace routemq::redis {
namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

// The TLS context of these settings (named `setting` in errors: redis.tls); a file that does not load
// is a configuration error, raised by start() or initialize().
std::shared_ptr<asio::ssl::context> tls_context_for(const TlsSettings& tls, const std::string& setting) {
  try {
    return net::make_tls_context(tls, setting);
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
}

ConnectionSettings settings_for(const RedisConfig& config) {
  ConnectionSettings settings;
  settings.host = config.host;
  settings.port = config.port;
  settings.db = config.db;
  settings.username = config.username;
  settings.password = config.password;
  settings.client_name = config.client_name;
  settings.connect_timeout = milliseconds(config.connect_timeout_s);
  settings.command_timeout = milliseconds(config.socket_timeout_s);
  settings.health_check_interval = milliseconds(config.health_check_interval_s);
  settings.keepalive = config.socket_keepalive;
  settings.reconnect_min = milliseconds(config.reconnect_min_s);
  settings.reconnect_max = milliseconds(config.reconnect_max_s);
  settings.socket_path = config.socket_path;
  settings.tls = config.tls;
  if (config.tls.enabled) settings.tls_context = tls_context_for(config.tls, settings.tls_setting);
  return settings;
}

// How the Sentinels are reached: their own credentials and TLS, the timers of `master` (the settings
// settings_for() built, not built again: that would load the master's TLS files twice).
SentinelSettings sentinel_settings_for(const RedisConfig& config, const ConnectionSettings& master) {
  SentinelSettings sentinel;
  for (const auto& node : config.sentinel.nodes) sentinel.nodes.push_back(*parse_node_address(node));  // checked when read
  sentinel.master_name = config.sentinel.master_name;
  sentinel.connection = master;
  sentinel.connection.username = config.sentinel.username;
  sentinel.connection.password = config.sentinel.password;
  sentinel.connection.tls = config.sentinel.tls;
  sentinel.connection.tls_setting = "redis.sentinel.tls";
  sentinel.connection.tls_context =
      config.sentinel.tls.enabled ? tls_context_for(config.sentinel.tls, sentinel.connection.tls_setting) : nullptr;
  return sentinel;
}

ClusterSettings cluster_settings_for(const RedisConfig& config, const ConnectionSettings& node) {
  ClusterSettings cluster;
  for (const auto& seed : config.cluster.nodes) cluster.seeds.push_back(*parse_node_address(seed));  // checked when read
  cluster.node = node;
  cluster.connections = static_cast<std::size_t>(config.max_connections);
  cluster.read_from = config.read_from;
  return cluster;
}

// What start() connects to, for its log line.
std::string where_described(const RedisConfig& config, const ConnectionSettings& settings) {
  if (!config.sentinel.nodes.empty()) return "the master '" + config.sentinel.master_name + "' of Sentinel";
  if (!config.cluster.nodes.empty()) return config.address();
  return settings.address();
}

// Latency percentiles come from a sample: one command in eight, picked at random (xorshift) so a
// handler's fixed sequence of commands cannot keep the same one in or out. Two clock reads on every
// command were about 4% of its cost at 1000 concurrent callers.
bool sampled_for_latency() {
  thread_local std::uint32_t state =
      0x9E3779B9u ^ static_cast<std::uint32_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return (state & 7u) == 0;
}

const Codec& codec_named(const std::string& name) {
  const Codec* found = codec::by_name(name);
  return found ? *found : codec::json();  // read_redis_config() has refused any other name
}

// The context a sealed value is bound to: its key, and the part of it (a hash field) when it has one.
// The key's length first: no other key and part spell the same context.
std::string seal_context(std::string_view full_name, std::string_view part) {
  if (part.empty()) return std::string(full_name);
  return fmt::format("{}:{}{}", full_name.size(), full_name, part);
}

}  // namespace

// ---- the manager and its views

namespace {

// The last handle can go on the engine's own io thread (a background reload that outlived its
// manager): the engine cannot join that thread from itself, so a thread of its own deletes it. Those
// threads are joined when the process exits. The reaper is created at the first such deletion, after
// every static the engine's thread may still touch (spdlog's registry, the scripts it ran), so it is
// destroyed, and joins, before them.
class EngineReaper {
 public:
  ~EngineReaper() {
    std::vector<std::thread> reapers;
    {
      std::lock_guard lock(mutex_);
      reapers.swap(threads_);
    }
    for (auto& reaper : reapers) reaper.join();
  }
  void reap(Engine* engine) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([engine] { delete engine; });
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

EngineReaper& engine_reaper() {
  static EngineReaper reaper;
  return reaper;
}

}  // namespace

static std::shared_ptr<Engine> make_engine(RedisConfig config) {
  return std::shared_ptr<Engine>(new Engine(std::move(config)), [](Engine* engine) {
    if (engine->thread.get_id() == std::this_thread::get_id())
      engine_reaper().reap(engine);
    else
      delete engine;
  });
}

// The settings, once the encryption key parses: a bad key (std::invalid_argument) fails the
// constructor or configure(), not the first encrypted value.
static RedisConfig with_valid_key(RedisConfig config) {
  Keyring::parse(config.encryption_key);
  return config;
}

// Disabled by the environment is a choice, but a silent one is a trap (seed 001's users port code
// that calls it and see nothing happen): said once per process.
static RedisConfig announced_if_disabled(RedisConfig config) {
  static std::atomic<bool> said{false};
  if (!config.enabled && !said.exchange(true))
    spdlog::info("redis: disabled (ENABLE_REDIS is not true in the environment or .env): every call is a no-op");
  return config;
}

RedisManager::RedisManager() : RedisManager(announced_if_disabled(redis_config_from_environment())) {}

RedisManager::RedisManager(RedisConfig config)
    : RedisManager(make_engine(with_valid_key(std::move(config))), {}, std::nullopt, nullptr, nullptr) {}

RedisManager::RedisManager(RedisConfig config, asio::io_context& io)
    : RedisManager(std::make_shared<Engine>(with_valid_key(std::move(config)), io), {}, std::nullopt, nullptr,
                   nullptr) {}

RedisManager::RedisManager(std::shared_ptr<Engine> engine, std::string scope_prefix,
                           std::optional<std::chrono::seconds> scope_ttl, std::shared_ptr<const ValueFormat> format,
                           std::shared_ptr<CacheStats> cache_stats)
    : engine_(std::move(engine)),
      scope_prefix_(std::move(scope_prefix)),
      scope_ttl_(scope_ttl),
      format_(std::move(format)),
      cache_stats_(cache_stats ? std::move(cache_stats) : std::make_shared<CacheStats>()) {}

RedisManager::~RedisManager() = default;
RedisManager::RedisManager(RedisManager&&) noexcept = default;
RedisManager& RedisManager::operator=(RedisManager&&) noexcept = default;

RedisManager RedisManager::scoped(std::string_view prefix, ScopeOptions options) const {
  auto format = format_;  // null: the view follows the settings in effect, as its parent does
  if (options.codec || options.encrypt_values)
    format = std::make_shared<const ValueFormat>(ValueFormat{options.codec ? std::move(*options.codec) : codec(),
                                                             options.encrypt_values.value_or(encrypts_values())});
  return RedisManager(engine_, scope_prefix_ + std::string(prefix), options.default_ttl ? options.default_ttl : scope_ttl_,
                      std::move(format), nullptr);
}

RedisManager::Weak RedisManager::weak() const { return Weak(*this); }

// A nested class reads the manager's members itself: no friend needed.
RedisManager::Weak::Weak(const RedisManager& of)
    : engine_(of.engine_), scope_prefix_(of.scope_prefix_), scope_ttl_(of.scope_ttl_), format_(of.format_),
      cache_stats_(of.cache_stats_) {}

std::shared_ptr<RedisManager> RedisManager::Weak::lock() const {
  auto engine = engine_.lock();
  if (!engine) return nullptr;
  return std::shared_ptr<RedisManager>(new RedisManager(std::move(engine), scope_prefix_, scope_ttl_, format_, cache_stats_));
}

std::shared_ptr<RedisManager> RedisManager::share() const {
  return std::shared_ptr<RedisManager>(new RedisManager(engine_, scope_prefix_, scope_ttl_, format_, cache_stats_));
}

// Written into the settings every command reads, they would change under commands running on other
// threads (a data race), and a command could build its key with one prefix and its TTL with another:
// the engine keeps them for start() instead.
void RedisManager::configure(RedisConfig config) {
  engine_->set_next_settings(with_valid_key(std::move(config)));  // a bad key throws first, leaving all as it was
}

const RedisConfig& RedisManager::config() const { return engine_->settings(); }

const Codec& RedisManager::codec() const { return format_ ? format_->codec : codec_named(config().codec); }

bool RedisManager::encrypts_values() const { return format_ ? format_->encrypted : config().encrypt_values; }

void RedisManager::set_codec(Codec codec) {
  format_ = std::make_shared<const ValueFormat>(ValueFormat{std::move(codec), encrypts_values()});
}

bool RedisManager::started_for_initialize() {
  const bool running = engine_->pool.load(std::memory_order_acquire) != nullptr;
  if (running && engine_->started_generation.load() == engine_->settings_generation.load()) return true;
  return start();
}

RedisManager::Connecting RedisManager::connecting(std::uint64_t failures_before,
                                                  std::chrono::steady_clock::time_point give_up) const {
  if (fully_connected()) return Connecting::connected;
  // A refused or failed first attempt answers at once: no point waiting out the timeout.
  if (engine_->stats.connection_failures.load() > failures_before || std::chrono::steady_clock::now() >= give_up)
    return Connecting::failed;
  return Connecting::waiting;
}

bool RedisManager::initialize() {
  ensure_not_io_thread();
  const auto failures_before = engine_->stats.connection_failures.load();
  if (!started_for_initialize()) return false;
  const auto give_up = std::chrono::steady_clock::now() + milliseconds(engine_->settings().connect_timeout_s);
  auto now = connecting(failures_before, give_up);
  for (; now == Connecting::waiting; now = connecting(failures_before, give_up))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return now == Connecting::connected;
}

// The same checks between short timer waits on the caller's executor: no thread is held meanwhile.
awaitable<bool> RedisManager::initialize(const asio::use_awaitable_t<>&) {
  const auto failures_before = engine_->stats.connection_failures.load();
  if (!started_for_initialize()) co_return false;
  const auto give_up = std::chrono::steady_clock::now() + milliseconds(engine_->settings().connect_timeout_s);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto now = connecting(failures_before, give_up);
  for (; now == Connecting::waiting; now = connecting(failures_before, give_up)) {
    pause.expires_after(std::chrono::milliseconds(2));
    co_await pause.async_wait(asio::use_awaitable);
  }
  co_return now == Connecting::connected;
}

bool RedisManager::start() {
  disconnect();
  // Noted first: a configure() racing this start() then makes the next initialize() start again.
  const auto generation = engine_->settings_generation.load();
  engine_->put_next_settings_in_effect();  // configure()'s, if any: commands go on with the old ones until here
  const auto& config = engine_->settings();
  // Disabled, every call is a no-op, as documented: no in-process answers either.
  engine_->use_fallback_cache(config.enabled ? config.fallback_cache : RedisConfig::FallbackCache{});
  if (!config.enabled) {
    spdlog::info("redis: disabled (ENABLE_REDIS=false): every call is a no-op");
    return false;
  }
  engine_->connection_settings = settings_for(config);  // first: a TLS file that does not load throws here
  engine_->started_generation = generation;
  MasterLocator* locator = nullptr;  // started once the pool reading from its replicas follows it
  if (!config.sentinel.nodes.empty()) {
    locator = engine_->master_locators.emplace_back(MasterLocator::create(engine_->strand, sentinel_settings_for(config, engine_->connection_settings))).get();
    engine_->connection_settings.master_lookup = locator->lookup();
    engine_->master_locator.store(locator, std::memory_order_release);
  }
  if (!config.cluster.nodes.empty()) {  // host and port: the first seed, for the subscriber and leases
    const auto first = *parse_node_address(config.cluster.nodes.front());  // checked when read
    engine_->connection_settings.host = first.host;
    engine_->connection_settings.port = first.port;
  }
  const auto& settings = engine_->connection_settings;
  auto subscriber_settings = settings;
  auto& pools = engine_->pools;
  const auto connections = static_cast<std::size_t>(config.max_connections);
  if (locator && config.read_from != ReadFrom::master) {
    pools.push_back(std::make_unique<SentinelPool>(engine_->strand, settings, connections, config.read_from,
                                                   engine_->shared_stats, *locator));
  } else if (config.cluster.nodes.empty()) {
    pools.push_back(std::make_unique<ConnectionPool>(engine_->strand, settings, connections, engine_->shared_stats));
  } else {
    auto cluster = std::make_unique<ClusterPool>(engine_->strand, cluster_settings_for(config, settings),
                                                 engine_->shared_stats);
    subscriber_settings.master_lookup = cluster->any_master();  // any master; another when it fails
    pools.push_back(std::move(cluster));
  }
  if (locator) locator->start();
  pools.back()->start();
  engine_->pool.store(pools.back().get(), std::memory_order_release);
  engine_->subscriber->start(subscriber_settings);
  if (config.tls.enabled && !config.tls.verify)
    spdlog::warn("redis: TLS without certificate verification (redis.tls.verify false): anyone on the path can "
                 "read and change the traffic");
  spdlog::info("redis: connecting to {}{} db {} with {} connection(s){}", where_described(config, settings),
               config.tls.enabled ? " over TLS" : "", config.db, config.max_connections,
               config.read_from == ReadFrom::master ? "" : fmt::format(", read_from {}", name_of(config.read_from)));
  return true;
}

void RedisManager::disconnect() {
  if (auto* pool = engine_->pool.exchange(nullptr, std::memory_order_acq_rel)) pool->stop();
  engine_->subscriber->stop();
  if (auto* locator = engine_->master_locator.exchange(nullptr, std::memory_order_acq_rel)) locator->stop();
}

bool RedisManager::is_connected() const {
  return engine_->ready_pool() != nullptr;
}

// Connected, and on a cluster to every master: what start-up waits for before the first command.
bool RedisManager::fully_connected() const {
  auto* pool = engine_->ready_pool();
  if (!pool) return false;
  const auto masters = pool->nodes();
  return std::all_of(masters.begin(), masters.end(), [](const SinkNode& master) { return master.connections_ready > 0; });
}

bool RedisManager::wait_connected(std::chrono::milliseconds deadline) const {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (!fully_connected()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string RedisManager::prefix() const { return engine_->settings().key_prefix + scope_prefix_; }

KeySpace RedisManager::key_space() const {
  const auto& settings = engine_->settings();  // one version: a start() may put new ones in effect meanwhile
  return KeySpace(settings.key_prefix, scope_prefix_, !settings.cluster.nodes.empty());
}

std::string RedisManager::key(std::string_view name) const { return key_space().key(name); }

std::string RedisManager::strip_prefix(std::string_view key) const {
  const auto full_prefix = prefix();
  if (key.starts_with(full_prefix)) key.remove_prefix(full_prefix.size());
  return std::string(key);
}

std::optional<std::chrono::seconds> RedisManager::default_ttl() const {
  const auto ttl = scope_ttl_.value_or(std::chrono::seconds(engine_->settings().default_ttl_s));
  if (ttl.count() <= 0) return std::nullopt;
  return ttl;
}

ClientStats& RedisManager::raw_stats() { return engine_->stats; }
asio::io_context& RedisManager::io_context() { return engine_->io; }
const CacheStats& RedisManager::cache_stats_all_scopes() const { return engine_->cache_totals; }

void RedisManager::count_cache(std::atomic<std::uint64_t> CacheStats::*counter) {
  ((*cache_stats_).*counter).fetch_add(1, std::memory_order_relaxed);
  (engine_->cache_totals.*counter).fetch_add(1, std::memory_order_relaxed);
}

// The keyring parsed once per engine, from the settings: every manager, view and recipe shares it.
struct ConfiguredKeyring {
  explicit ConfiguredKeyring(const RedisConfig& config) : keyring(Keyring::parse(config.encryption_key)) {}
  const Keyring keyring;
};

std::shared_ptr<const Keyring> RedisManager::keyring() const {
  auto state = recipe_state<ConfiguredKeyring>();
  return std::shared_ptr<const Keyring>(state, &state->keyring);
}

Encoded RedisManager::seal_stored(std::string_view name, std::string_view part, std::string_view bytes) const {
  if (!encrypts_values()) return {std::string(bytes), {}};
  if (auto sealed = keyring()->seal(bytes, seal_context(key(name), part))) return {std::move(sealed), {}};
  return {std::nullopt, "values are encrypted but no encryption key is configured (REDIS_ENCRYPTION_KEY)"};
}

Decrypted RedisManager::open_stored(std::string_view name, std::string_view part, std::string bytes) const {
  if (!encrypts_values()) return {std::move(bytes), {}};
  return keyring()->open(bytes, seal_context(key(name), part));
}

Encoded RedisManager::encode_stored(std::string_view name, const nlohmann::json& value) const {
  const auto& value_codec = codec();
  auto encoded = value_codec.encode(value);
  if (!encoded.bytes) return {std::nullopt, fmt::format("the {} codec cannot encode it: {}", value_codec.name, encoded.error)};
  return seal_stored(name, {}, *encoded.bytes);
}

Decrypted RedisManager::open_value(std::string_view name, std::string bytes) {
  auto opened = open_stored(name, {}, std::move(bytes));
  if (!opened.value) {
    opened.error = fmt::format("the value of '{}' could not be decrypted: {}", name, opened.error);
    count_cache(&CacheStats::decode_failures);
    spdlog::warn("redis: {}", opened.error);
  }
  return opened;
}

Decoded RedisManager::decode_stored(std::string_view name, const std::string& bytes) {
  auto opened = open_value(name, bytes);
  Decoded decoded;
  if (!opened.value) {
    decoded.error = std::move(opened.error);  // counted and logged already
    return decoded;
  }
  const auto& value_codec = codec();
  decoded = value_codec.decode(*opened.value);
  if (!decoded.value) {
    decoded.error = fmt::format("the value of '{}' could not be decoded by the {} codec: {}", name,
                                value_codec.name, decoded.error);
    count_cache(&CacheStats::decode_failures);
    spdlog::warn("redis: {}", decoded.error);
  }
  return decoded;
}

std::shared_ptr<void> RedisManager::recipe_state(std::type_index type, MakeRecipeState make) const {
  std::lock_guard lock(engine_->recipe_states_mutex);
  auto& state = engine_->recipe_states[type];
  if (!state) state = make(engine_->settings());
  return state;
}

Result RedisManager::refused_on_view(const char* what) const {
  spdlog::warn("redis: {} refused on the scoped view '{}': its keys cannot be checked against the scope", what,
               scope_prefix_);
  return Result::failed(Failure::refused, fmt::format("{} is not available on a scoped view", what));
}

void RedisManager::ensure_not_io_thread() const {
  if (engine_->io.get_executor().running_in_this_thread())
    throw std::logic_error("RedisManager::run_sync called on a thread running the manager's io_context: it would deadlock");
}

void RedisManager::count_reads(const Result& result, std::uint32_t reads) { engine_->stats.count_reads(result, reads); }

void RedisManager::count_read(bool hit) { engine_->stats.count_read(hit); }

namespace {

template <class T>
awaitable<T> already(T value) { co_return value; }

constexpr std::uint32_t no_reads = 0;

}  // namespace

// Inline: it is on every command's way (out of line, GCC made it one more call per command).
[[gnu::always_inline]] inline Request RedisManager::request_to(std::string&& bytes, std::size_t replies, Route route,
                                                               Completion completion) {
  Request request(std::move(bytes), replies, std::move(completion));
  request.key_slot = route.slot;
  request.keyless = route.keyless;
  request.command_slots = std::move(route.command_slots);
  request.read_only = route.read_only;
  return request;
}

// The one path every command takes: refused at once while nothing is connected (the circuit is open),
// otherwise queued on a connection; the caller resumes on its own executor. Not a coroutine: the
// caller awaits the operation itself, one coroutine frame less per command.
template <class T>
[[gnu::always_inline]] inline awaitable<T> RedisManager::send(std::string&& bytes, std::size_t replies, Route route, Decoding<T> decoding) {
  auto* pool = engine_->ready_pool();
  if (!pool) {
    return already(decoding.decode(engine_->refuse_unavailable()));  // no read: Redis did not answer
  }
  auto submit = [pool, bytes = std::move(bytes), replies, route = std::move(route)](Completion completion) mutable {
    pool->submit(request_to(std::move(bytes), replies, std::move(route), std::move(completion)));
  };
  return await_completion(std::move(submit), Statistics::recorded, decoding);
}

template <class T>
void RedisManager::run_detached(Command<T> command, std::string what) const {
  if (command.answered_here()) return;  // nothing to send
  auto* pool = engine_->ready_pool();
  if (!pool || command.place() != CommandPlace::shared) {
    spdlog::warn("redis: {}: {}", what, pool ? "it needs a connection of its own" : "Redis is unavailable");
    return;
  }
  // The engine, not a handle to it, as a Resumption holds it: every request is completed (or failed)
  // before its engine goes, and a handle in the connection's queue would keep it alive in a cycle.
  auto done = [engine = engine_.get(), what = std::move(what)](Result&& result) {
    if (result.ok()) engine->stats.count_command(engine->strand.running_in_this_thread());
    if (!result.succeeded()) spdlog::warn("redis: {}: {}", what, result.error_text());
  };
  Route route{command.command_slots(), command.slot(), command.keyless(), command.read_only()};
  const auto replies = command.replies();
  pool->submit(request_to(std::move(command).take_bytes(), replies, std::move(route), Completion(std::move(done))));
}

// A command answered here (nothing to send) completes at once; one that needs a connection of its
// own is refused (its method leases one); any other takes the one path with its route.
template <class T>
awaitable<T> RedisManager::run(Command<T> command) {
  if (command.answered_here()) return already(command.decode(command.local_result()));
  if (command.place() != CommandPlace::shared)
    return already(command.decode(Result::failed(Failure::refused, "this command needs a connection of its own: "
                                                                   "use its RedisManager method, or lease()")));
  const Decoding<T> decoding{command.decoder(), command.reads()};
  Route route{command.command_slots(), command.slot(), command.keyless(), command.read_only()};
  const auto replies = command.replies();
  return send(std::move(command).take_bytes(), replies, std::move(route), decoding);
}

awaitable<Result> RedisManager::execute(std::string bytes, std::size_t replies) {
  return send<Result>(std::move(bytes), replies, Route{}, {undecoded, no_reads});
}

namespace {

// The Resumption of a suspended coroutine: calls its Asio completion handler, on the executor it
// wants, with the result decoded as the command's caller takes it (its reads were counted when the
// reply came, by Resumption::complete: this stays small enough for Asio's resumption to be inlined).
template <class Handler, class T>
struct HandlerResumption final : Resumption {
  HandlerResumption(Engine& engine, asio::any_io_executor executor, Handler handler, T (*decode)(Result&&),
                    std::uint32_t reads)
      : Resumption(engine, std::move(executor), reads), handler(std::move(handler)), decode(decode) {}
  void resume() override { handler(decode(std::move(result))); }
  Handler handler;
  T (*decode)(Result&&);
};

}  // namespace

// Suspends the caller until the Completion handed to `submit` runs, then resumes it on its own
// executor (through Engine::deliver()). Not a coroutine: `submit` is moved into the operation.
template <class T, class Submit>
awaitable<T> RedisManager::await_completion(Submit&& submit, Statistics statistics, Decoding<T> decoding) {
  auto initiation = [this, submit = std::forward<Submit>(submit), statistics, decoding](auto handler) mutable {
    // Not counted as the executor's outstanding work: only a co_spawned coroutine awaits, and co_spawn
    // counts its executor busy until the coroutine ends (co_spawn_work_guard). Counted again here, it
    // cost two atomic operations on the io_context per command; the engine counts it per post instead.
    asio::any_io_executor executor = asio::get_associated_executor(handler);
    auto caller = make_recycled<HandlerResumption<decltype(handler), T>>(*engine_, std::move(executor), std::move(handler),
                                                                         decoding.decode, decoding.reads);
    if (statistics == Statistics::recorded) {
      caller->in_command_statistics = true;
      if (sampled_for_latency()) caller->sent_at = Clock::now();
    }
    submit(Completion(std::move(caller)));
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(std::move(initiation), asio::use_awaitable);
}

// Every value a command factory decodes into (commands/commands.hpp): run() is compiled here, once,
// for each; a factory of a new type adds it to this list.
#define ROUTEMQ_RUN_COMMAND_OF(...)                                            \
  template awaitable<__VA_ARGS__> RedisManager::run(Command<__VA_ARGS__>); \
  template void RedisManager::run_detached(Command<__VA_ARGS__>, std::string) const;
ROUTEMQ_RUN_COMMAND_OF(Result)
ROUTEMQ_RUN_COMMAND_OF(bool)
ROUTEMQ_RUN_COMMAND_OF(long long)
ROUTEMQ_RUN_COMMAND_OF(std::string)
ROUTEMQ_RUN_COMMAND_OF(std::optional<std::string>)
ROUTEMQ_RUN_COMMAND_OF(std::optional<long long>)
ROUTEMQ_RUN_COMMAND_OF(std::optional<double>)
ROUTEMQ_RUN_COMMAND_OF(std::vector<std::string>)
ROUTEMQ_RUN_COMMAND_OF(std::vector<std::optional<std::string>>)
ROUTEMQ_RUN_COMMAND_OF(std::vector<std::pair<std::string, double>>)
ROUTEMQ_RUN_COMMAND_OF(std::map<std::string, std::string>)
ROUTEMQ_RUN_COMMAND_OF(std::optional<std::pair<std::string, std::string>>)
#undef ROUTEMQ_RUN_COMMAND_OF

// Raw access names keys itself, which a view could not keep inside its scope: refused there.
awaitable<Result> RedisManager::command(std::vector<std::string> args) {
  if (is_scoped()) co_return refused_on_view("command()");
  if (auto refused = refuse_unshareable(args)) co_return std::move(*refused);
  co_return co_await execute(encode_command(args), 1);
}

awaitable<std::vector<Result>> RedisManager::pipeline(const Batch& batch) {
  if (is_scoped()) co_return std::vector<Result>(batch.size(), refused_on_view("pipeline()"));
  for (const auto& command : batch.commands())  // one write: one refused command refuses the batch
    if (auto refused = refuse_unshareable(command)) co_return std::vector<Result>(batch.size(), *refused);
  co_return co_await run_pipeline(batch);
}

awaitable<Result> RedisManager::transaction(const Batch& batch) {
  if (is_scoped()) co_return refused_on_view("transaction()");
  for (const auto& command : batch.commands())
    if (auto refused = refuse_unshareable(command)) co_return std::move(*refused);
  co_return co_await run_transaction(batch);
}

std::optional<Result> RedisManager::refuse_unshareable(const std::vector<std::string>& command) const {
  const auto policy = command_policy(command);
  if (policy.place == CommandPlace::shared) return std::nullopt;
  spdlog::warn("redis: refused: {}", policy.reason);
  return Result::failed(Failure::refused, policy.reason);
}

LeasedConnection RedisManager::lease(LeaseOptions options) {
  if (is_scoped()) return LeasedConnection(share(), nullptr, refused_on_view("lease()"));
  return open_lease(options);
}

LeasedConnection RedisManager::open_lease(LeaseOptions options) {
  if (!is_connected()) return LeasedConnection(share(), nullptr, engine_->refuse_unavailable());
  auto settings = engine_->connection_settings;  // those of start(): the same TLS context
  if (auto* pool = engine_->pool.load(std::memory_order_acquire); pool && !options.key.empty())
    if (const auto node = parse_node_address(pool->node_for_key(options.key))) {  // a cluster: the key's master
      settings.host = node->host;
      settings.port = node->port;
    }
  settings.reconnect = false;  // one connection, one attempt: a lease that lost it fails, as it must
  if (options.command_timeout) settings.command_timeout = *options.command_timeout;
  auto connection = Connection::create(engine_->strand, settings, engine_->shared_stats);
  connection->start();
  return LeasedConnection(share(), std::move(connection), Result{});
}

awaitable<Result> RedisManager::execute_on(std::shared_ptr<Connection> connection, std::string bytes,
                                           std::size_t replies) {
  // Queued on the connection's strand even before it is ready: flushed once its handshake is done.
  // The completion holds no handle on the connection: one in its own queue would be a cycle.
  auto submit = [this, connection, bytes = std::move(bytes), replies](Completion completion) mutable {
    asio::post(engine_->strand, [connection, bytes = std::move(bytes), replies, completion = std::move(completion)]() mutable {
      connection->push_on_io_thread({std::move(bytes), replies, std::move(completion)});
    });
  };
  // A blocking wait is no latency.
  return await_completion(std::move(submit), Statistics::skipped, Decoding<Result>{undecoded, no_reads});
}

awaitable<std::vector<Result>> RedisManager::run_pipeline(const Batch& batch) {
  std::vector<Result> results;
  if (batch.empty()) co_return results;
  std::string bytes;
  for (const auto& command : batch.commands()) append_command(bytes, command);
  auto result = co_await execute(std::move(bytes), batch.size());
  if (!result.ok()) co_return std::vector<Result>(batch.size(), result);
  if (batch.size() == 1) co_return std::vector<Result>{result};
  for (auto& reply : result.reply.elements) results.push_back(Result::success(std::move(reply)));
  co_return results;
}

awaitable<Result> RedisManager::run_transaction(const Batch& batch) {
  std::string bytes;
  append_command(bytes, {"MULTI"});
  for (const auto& command : batch.commands()) append_command(bytes, command);
  append_command(bytes, {"EXEC"});
  co_return decode::transaction_outcome(co_await execute(std::move(bytes), batch.size() + 2));
}

awaitable<Result> RedisManager::eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args) {
  auto result = co_await run(cmd::evalsha(key_space(), script.sha(), keys, args));
  if (needs_source(result)) result = co_await run(cmd::eval(key_space(), script.source(), keys, args));
  co_return result;
}

void RedisManager::eval_detached(const Script& script, std::vector<std::string> keys,
                                 std::vector<std::string> args) const {
  auto run_on = [](std::shared_ptr<RedisManager> self, const Script& body, std::vector<std::string> names,
                   std::vector<std::string> values) -> awaitable<void> {
    co_await self->eval(body, std::move(names), std::move(values));
  };
  asio::co_spawn(engine_->io, run_on(share(), script, std::move(keys), std::move(args)), asio::detached);
}

awaitable<bool> RedisManager::ping() { return run(cmd::ping(key_space())); }

// A blocking command holds its connection until it returns, so it gets a short-lived one of its own,
// for the wait and then some; on a cluster, to the first key's master.
awaitable<std::optional<std::pair<std::string, std::string>>> RedisManager::blpop(std::vector<std::string> names,
                                                                                    std::chrono::seconds timeout) {
  auto command = cmd::blpop(key_space(), names, timeout);
  if (command.answered_here()) co_return std::nullopt;
  if (!is_connected()) co_return command.decode(engine_->refuse_unavailable());
  auto blocking = open_lease({.command_timeout = milliseconds(engine_->settings().socket_timeout_s) + timeout,
                              .key = key(names.front())});
  const auto decode = command.decoder();
  auto popped = decode(co_await blocking.send(std::move(command).take_bytes(), 1));
  if (popped) popped->first = strip_prefix(popped->first);
  co_return popped;
}

// ---- pub/sub

Subscription RedisManager::subscribe(const std::string& channel, MessageHandler handler) {
  return engine_->subscriber->subscribe({channel}, std::move(handler), false);
}

Subscription RedisManager::subscribe(std::vector<std::string> channels, MessageHandler handler) {
  return engine_->subscriber->subscribe(std::move(channels), std::move(handler), false);
}

Subscription RedisManager::subscribe(std::initializer_list<std::string> channels, MessageHandler handler) {
  return subscribe(std::vector<std::string>(channels), std::move(handler));
}

Subscription RedisManager::psubscribe(const std::string& pattern, MessageHandler handler) {
  return engine_->subscriber->subscribe({pattern}, std::move(handler), true);
}

Subscription RedisManager::subscribe_json(std::vector<std::string> channels, JsonMessageHandler handler) {
  auto stats = cache_stats_;
  auto totals = &engine_->cache_totals;  // the engine outlives its subscriber's handlers
  auto decoding = [stats, totals, handler = std::move(handler)](const std::string& channel, const std::string& payload) {
    auto parsed = parse_json(payload);
    if (!parsed.value) {
      stats->decode_failures.fetch_add(1, std::memory_order_relaxed);
      totals->decode_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("redis: a message on '{}' is not valid JSON{}{}: skipped", channel, parsed.too_deep ? ": " : "",
                   parsed.too_deep ? parsed.error : "");
      return;
    }
    handler(channel, *parsed.value);
  };
  return subscribe(std::move(channels), std::move(decoding));
}

void RedisManager::unsubscribe(const Subscription& subscription) { engine_->subscriber->unsubscribe(subscription); }
void RedisManager::unsubscribe(const std::string& channel) { engine_->subscriber->unsubscribe(channel, false); }
void RedisManager::punsubscribe(const std::string& pattern) { engine_->subscriber->unsubscribe(pattern, true); }

bool RedisManager::subscriptions_active() const { return engine_->subscriber->active(); }

// ---- stats

RedisStatsSnapshot RedisManager::stats() const {
  RedisStatsSnapshot snapshot;
  auto* pool = engine_->pool.load(std::memory_order_acquire);
  snapshot.connections_ready = pool ? pool->ready_count() : 0;
  if (pool)
    for (auto& node : pool->nodes()) snapshot.cluster_masters.push_back({std::move(node.address), node.connections_ready});
  snapshot.state = !engine_->settings().enabled ? "disabled" : !pool ? "down" : snapshot.connections_ready > 0 ? "connected" : "connecting";
  snapshot.commands = engine_->stats.all_commands();
  snapshot.errors = engine_->stats.errors.load();
  snapshot.unavailable = engine_->stats.unavailable.load();
  snapshot.timeouts = engine_->stats.timeouts.load();
  snapshot.connection_failures = engine_->stats.connection_failures.load();
  snapshot.reconnects = engine_->stats.reconnects.load();
  snapshot.redirects = engine_->stats.redirects.load();
  snapshot.slot_refreshes = engine_->stats.slot_refreshes.load();
  snapshot.replica_reads = engine_->stats.replica_reads.load();
  snapshot.replica_fallbacks = engine_->stats.replica_fallbacks.load();
  if (pool)
    for (auto& node : pool->replicas()) snapshot.replicas.push_back({std::move(node.address), node.connections_ready});
  snapshot.hits = engine_->stats.all_hits();
  snapshot.misses = engine_->stats.all_misses();
  const auto reads = snapshot.hits + snapshot.misses;
  snapshot.hit_rate = reads ? static_cast<double>(snapshot.hits) / static_cast<double>(reads) : 0;
  snapshot.p50_us = engine_->stats.latency.quantile_us(0.5);
  snapshot.p99_us = engine_->stats.latency.quantile_us(0.99);
  snapshot.last_failure = engine_->stats.last_failure();
  if (const auto* local = engine_->local_fallback()) {
    snapshot.fallback_served = local->served.load();
    snapshot.fallback_kept_offline = local->kept_offline.load();
    snapshot.fallback_entries = local->size();
  }
  if (const auto* locator = engine_->master_locator.load(std::memory_order_acquire)) {
    const auto master = locator->master();
    snapshot.master = master ? master->text() : "";
    snapshot.failovers = locator->failovers_followed();
    if (!master) snapshot.last_failure = "no master known: " + locator->problem();
  }
  return snapshot;
}

}  // namespace routemq::redis
