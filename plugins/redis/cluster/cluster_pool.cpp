#include "plugins/redis/cluster/cluster_pool.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/cluster/cluster_replies.hpp"
#include "plugins/redis/cluster/command_keys.hpp"
#include "plugins/redis/cluster/redirections.hpp"
#include "plugins/redis/cluster/scan_cursor.hpp"
#include "plugins/redis/cluster/slot_map_keeper.hpp"
#include "plugins/redis/cluster/slot_split.hpp"
#include "plugins/redis/connection/connection_pool.hpp"
#include "plugins/redis/connection/inbox.hpp"
#include "plugins/redis/connection/unavailable.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/recycled.hpp"

namespace routemq::redis {
namespace {

constexpr std::string_view asking_command = "*1\r\n$6\r\nASKING\r\n";
constexpr std::string_view multi_command = "*1\r\n$5\r\nMULTI\r\n";

// The reply that decides what becomes of a request: its one reply; of several (a pipeline, MULTI ...
// EXEC), the first that names another node or asks to retry, but only when none of its commands ran:
// every reply is such an error, or it is a transaction that was aborted (EXECABORT).
const Reply* deciding_reply(std::string_view bytes, std::size_t replies, const Reply& reply) {
  if (replies == 1) return &reply;
  if (!reply.is_array() || reply.elements.empty()) return nullptr;
  const auto& all = reply.elements;
  const bool aborted = bytes.starts_with(multi_command) && all.back().is_error() &&
                       all.back().text.starts_with("EXECABORT");
  const bool none_ran = std::all_of(all.begin(), all.end(), not_run_here);
  if (!aborted && !none_ran) return nullptr;
  const auto first = std::find_if(all.begin(), all.end(), not_run_here);
  return first == all.end() ? nullptr : &*first;
}

// Without ASKING's own reply, in front of the request's.
Result without_asking_reply(Result result, std::size_t replies) {
  if (!result.ok() || !result.reply.is_array() || result.reply.elements.size() != replies + 1) return result;
  auto& elements = result.reply.elements;
  if (replies == 1) return Result::success(std::move(elements[1]));
  elements.erase(elements.begin());
  return result;
}

std::string cross_slot_words(const std::vector<std::string>& keys) {
  constexpr std::size_t shown = 5;
  std::vector<std::string> named(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(std::min(shown, keys.size())));
  return fmt::format("keys in different cluster slots ('{}'{}): no node can run this as one; give them one hash tag "
                     "(as in {{user:1}}:a and {{user:1}}:b) to keep them in one slot",
                     fmt::join(named, "', '"), keys.size() > shown ? fmt::format(" and {} more", keys.size() - shown) : "");
}

}  // namespace

class ClusterPool::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(asio::any_io_executor executor, ClusterSettings settings, std::shared_ptr<ClientStats> stats)
      : executor_(std::move(executor)),
        settings_(std::move(settings)),
        stats_(std::move(stats)),
        replica_chooser_(settings_.read_from, *stats_, "cluster") {}

  // After construction: the keeper tells this core of each map through a weak handle.
  void keep_slot_map() {
    keeper_ = SlotMapKeeper::create(executor_, settings_, stats_, [weak = weak_from_this()](const SlotMap& map) {
      auto self = weak.lock();
      return self && self->connect_masters_of(map);
    });
  }

  void start() {
    asio::post(executor_, [self = shared_from_this()] {
      self->stopped_ = false;
      self->keeper_->start();
    });
  }

  void stop() {
    asio::post(executor_, [self = shared_from_this()] {
      self->stopped_ = true;
      self->keeper_->stop();
      std::lock_guard lock(self->pools_mutex_);
      for (auto& [address, pool] : self->pools_) pool->stop();
      for (auto& [address, pool] : self->replica_pools_) pool->stop();
      self->note_readiness();
    });
  }

  // Any thread, before every command: an atomic kept by the strand, not a walk of the pools under
  // their lock.
  bool any_ready() const { return any_ready_.load(std::memory_order_acquire); }

  // Any thread: the master of the key's slot in the map learned last (a MOVED since is not in it).
  std::string master_of_key(std::string_view key) const {
    const auto map = keeper_->published();
    const auto* master = map ? map->master_of(hash_slot(key)) : nullptr;
    return master ? master->text() : std::string();
  }

  std::shared_ptr<const MasterLookup> any_master_lookup() {
    auto lookup = std::make_shared<MasterLookup>();
    std::weak_ptr<Core> weak = weak_from_this();
    lookup->current = [weak]() -> std::optional<std::pair<std::string, int>> {
      auto self = weak.lock();
      return self ? self->chosen_master() : std::nullopt;
    };
    lookup->suspect = [weak](const std::pair<std::string, int>& at, const std::string&) {
      if (auto self = weak.lock()) self->leave_master({at.first, at.second});
    };
    lookup->why_unknown = [] { return std::string("the cluster's slots are not known yet"); };
    return lookup;
  }

  std::vector<SinkNode> masters() const {
    const auto map = keeper_->published();
    std::lock_guard lock(pools_mutex_);
    std::vector<SinkNode> states;
    for (const auto& [address, pool] : pools_)
      states.push_back({address.text(), pool->ready_count(), map ? map->first_slot_of(address) : std::nullopt});
    return states;
  }

  std::vector<SinkNode> replicas() const {
    std::lock_guard lock(pools_mutex_);
    std::vector<SinkNode> states;
    for (const auto& [address, pool] : replica_pools_)
      states.push_back({address.text(), pool->ready_count(), std::nullopt});  // a replica serves no slot as master
    return states;
  }

  // Any thread: requests wait in the inbox; one post moves a whole burst to the strand.
  void submit(Request&& request) {
    if (inbox_.put(std::move(request))) asio::post(executor_, [self = shared_from_this()] { self->drain_inbox(); });
  }

 private:
  // On the strand, whenever a connection comes up or goes down and when pools come or go.
  void note_readiness() {
    bool ready = false;
    for (const auto& [address, pool] : pools_) ready = ready || pool->any_ready();
    any_ready_.store(ready && !stopped_, std::memory_order_release);
  }

  std::optional<std::pair<std::string, int>> chosen_master() {
    const auto map = keeper_->published();
    if (!map || map->masters().empty()) return std::nullopt;
    const auto& masters = map->masters();
    std::lock_guard lock(chosen_mutex_);
    if (std::find(masters.begin(), masters.end(), chosen_) == masters.end())
      chosen_ = masters[chosen_turn_++ % masters.size()];
    return std::pair{chosen_.host, chosen_.port};
  }

  void leave_master(const NodeAddress& at) {
    std::lock_guard lock(chosen_mutex_);
    if (at == chosen_) chosen_ = {};  // the next current() takes the next master in turn
  }

  // A request followed through redirections, kept whole until it completes: a redirection sends its
  // bytes again. Every request that is not for one slot, and one that is once it was redirected. It
  // is also the Completion of each send, and lends it its bytes (so a send allocates nothing): the
  // reply comes back to the core that sent it, with where it was sent.
  struct Pending final : Completion::Target {
    std::string bytes;
    std::size_t replies = 1;
    Completion completion;  // the caller's
    RequestSlot where;
    std::shared_ptr<const std::vector<std::optional<std::uint16_t>>> command_slots;  // as its sender gave them
    bool read_only = false;  // a replica may answer it (and its parts)
    Redirections redirections;
    std::shared_ptr<Core> sender;  // while sent
    NodeAddress sent_to;
    bool asking = false;

    ~Pending() override { RecycledBytes::give(std::move(bytes)); }
    void complete(std::shared_ptr<Target>&& self, Result&& result) override {
      std::exchange(sender, nullptr)->answered(std::static_pointer_cast<Pending>(std::move(self)), std::move(result));
    }
  };
  using PendingPtr = std::shared_ptr<Pending>;

  // A request for one slot goes straight to its master's connection, as it came: nearly every one is
  // answered there, and a Pending (kept for a resend, with a hop of its own on the way back) cost a
  // sixth of the client's instructions per command. The few that are redirected come back through
  // take_back() and are followed as pending requests from then on. Others (keyless, several slots,
  // a SCAN) are pending requests from the start.
  void drain_inbox() {
    for (auto& request : inbox_.take()) {
      if (!request.key_slot) {  // its sender did not say: read its keys' slot from its bytes
        auto where = where_said(request);
        if (where.kind != RequestSlot::Kind::one_slot) {
          route(pending_from(request, std::move(where)));
          continue;
        }
        request.key_slot = where.slot;
      }
      send_direct(std::move(request));
    }
  }

  // Where a request without a key slot goes: any master when its sender said it names no key,
  // several slots when it gave each command's, else where the keys read from its bytes say.
  static RequestSlot where_said(const Request& request) {
    if (request.keyless) return {};
    if (request.command_slots) return {RequestSlot::Kind::cross_slot, 0, {}};
    return slot_of_request(request.wire_bytes());
  }

  // The request, kept whole from now on for its redirections.
  static PendingPtr pending_from(Request& request, RequestSlot where) {
    auto pending = make_recycled<Pending>();
    pending->where = std::move(where);
    pending->command_slots = std::move(request.command_slots);
    pending->read_only = request.read_only;
    pending->bytes = std::move(request.bytes);
    pending->replies = request.replies;
    pending->completion = std::move(request.completion);
    return pending;
  }

  void send_direct(Request&& request) {
    if (stopped_) return unavailable_.refuse(request, Unavailable::Reason::not_connected);
    const auto* map = keeper_->map();
    const auto* master = map ? map->master_of(*request.key_slot) : nullptr;
    if (!master) {
      keeper_->refresh_soon();
      return unavailable_.refuse(request, Unavailable::Reason::not_connected);
    }
    if (request.read_only)
      if (auto* replica = ready_replica_of(*master, *map)) return replica->submit_on_executor(std::move(request));
    pool_for(*master).submit_on_executor(std::move(request));
  }

  // A ready replica's pool for a read of `master`'s slots, in turn; null when reads stay on masters
  // or no replica of it is ready (a fallback, counted). No allocation: it is on every read's path.
  ConnectionPool* ready_replica_of(const NodeAddress& master, const SlotMap& map) {
    if (!replica_chooser_.reads_from_replicas()) return nullptr;
    const auto& replicas = map.replicas_of(master);
    const auto chosen = replica_chooser_.choose_among(replicas.size(), [&](std::size_t i) {
      const auto* pool = replica_pool(replicas[i]);
      return pool && pool->any_ready();
    });
    return chosen ? replica_pool(replicas[*chosen]) : nullptr;
  }

  ConnectionPool* replica_pool(const NodeAddress& replica) { return pool_in(replica_pools_, replica); }

  // A direct request answered by `node` with an error reply or an array (the connection's TakeBack):
  // taken back when the reply says it did not run there, and followed as a pending request.
  bool take_back(const NodeAddress& node, Request& request, Result& result) {
    if (!request.key_slot) return false;  // a pending request's reply: its Pending is told (answered())
    auto* map = keeper_->map();
    const auto* deciding = map ? deciding_reply(request.wire_bytes(), request.replies, result.reply) : nullptr;
    if (!deciding || !not_run_here(*deciding)) return false;
    Redirections redirections;
    const auto next = redirections.after(*deciding, node, *map);
    if (next.kind == NextStep::Kind::deliver) return false;
    auto pending = pending_from(request, {RequestSlot::Kind::one_slot, *request.key_slot, {}});
    pending->redirections = redirections;
    pending->sent_to = node;
    follow(pending, next, std::move(result));
    return true;
  }

  // Takes `pending` whole: the send moves it into the connection's queue (a copy and its release
  // were two atomic operations per command).
  void route(PendingPtr pending) {
    if (stopped_) return finish(pending, unavailable_.refuse(Unavailable::Reason::not_connected));
    switch (pending->where.kind) {
      case RequestSlot::Kind::unreadable:
        return finish(pending, Result::failed(Failure::refused, "not a sequence of encoded commands"));
      case RequestSlot::Kind::cross_slot:
        if (auto split = split_request(pending->bytes)) return send_slot_split(pending, std::move(*split));
        if (auto commands = pipeline_commands(*pending); !commands.empty()) return send_each_command(pending, commands);
        return finish(pending, Result::failed(Failure::refused, cross_slot_words(pending->where.keys)));
      case RequestSlot::Kind::any_node:
      case RequestSlot::Kind::one_slot:
        break;
    }
    if (pending->where.kind == RequestSlot::Kind::any_node && keeper_->map())
      if (auto scan = scan_arguments(pending->bytes)) return send_scan(pending, std::move(*scan));
    const auto* master = master_for(pending->where);
    if (!master) {
      keeper_->refresh_soon();
      return finish(pending, unavailable_.refuse(Unavailable::Reason::not_connected));
    }
    if (pending->read_only && pending->where.kind == RequestSlot::Kind::one_slot)
      if (const auto replica = ready_replica_address(*master)) return send(std::move(pending), *replica, false);
    send(std::move(pending), *master, false);
  }

  std::optional<NodeAddress> ready_replica_address(const NodeAddress& master) {
    const auto* map = keeper_->map();
    auto* pool = map ? ready_replica_of(master, *map) : nullptr;
    for (const auto& [address, replica] : replica_pools_)
      if (replica.get() == pool) return address;
    return std::nullopt;
  }

  static std::optional<SlotSplit> split_request(std::string_view bytes) {
    const auto args = only_command(bytes);
    return args ? split_by_slot(*args) : std::nullopt;
  }

  // The commands of a pipeline: several with one reply each, not a transaction (a pipeline is not
  // atomic on one Redis either, so its commands may run on several masters). Empty for anything else.
  static std::vector<std::string_view> pipeline_commands(const Pending& pending) {
    if (pending.replies < 2 || pending.bytes.starts_with(multi_command)) return {};
    auto commands = each_command(pending.bytes);
    if (commands.size() != pending.replies) return {};
    return commands;
  }

  // A multi-key command over several slots: one request per slot; one reply put together from theirs.
  void send_slot_split(const PendingPtr& whole, SlotSplit split) {
    std::vector<PendingPtr> parts;
    for (const auto& part : split.parts) {
      parts.push_back(part_request(encode_command(part.args), part.slot));
      parts.back()->read_only = whole->read_only;  // an MGET's parts read as it does
    }
    send_parts(whole, std::move(parts), [split = std::move(split)](const std::vector<Reply>& replies) {
      return merge_parts(split, replies);
    });
  }

  // A pipeline over several slots: its commands grouped by slot, each group one request to its slot's
  // master (one connection: the commands on a key run in the pipeline's order), the replies put back
  // in the pipeline's order. Keyless commands, and commands themselves over several slots, go alone.
  void send_each_command(const PendingPtr& whole, const std::vector<std::string_view>& commands) {
    struct Group {
      std::string bytes;
      std::vector<std::size_t> positions;  // of its commands in the pipeline
      RequestSlot where;
    };
    std::vector<Group> groups;
    std::map<std::uint16_t, std::size_t> group_of_slot;
    std::size_t position = 0;
    const auto* said = whole->command_slots.get();
    if (said && said->size() != commands.size()) said = nullptr;  // not this request's: read the keys
    for (const auto command : commands) {
      auto where = said ? slot_said((*said)[position]) : slot_of_request(command);
      std::size_t index = groups.size();
      if (where.kind == RequestSlot::Kind::one_slot) index = group_of_slot.try_emplace(where.slot, groups.size()).first->second;
      if (index == groups.size()) groups.push_back({{}, {}, std::move(where)});
      groups[index].bytes += command;
      groups[index].positions.push_back(position++);
    }
    std::vector<PendingPtr> parts;
    std::vector<std::vector<std::size_t>> positions;
    for (auto& group : groups) {
      auto part = make_recycled<Pending>();
      part->bytes = std::move(group.bytes);
      part->replies = group.positions.size();
      part->where = std::move(group.where);
      part->read_only = whole->read_only;  // a pipeline of reads only: each group too
      parts.push_back(std::move(part));
      positions.push_back(std::move(group.positions));
    }
    send_parts(whole, std::move(parts), [positions = std::move(positions), total = position](const std::vector<Reply>& replies) {
      std::vector<Reply> in_order(total);
      for (std::size_t part = 0; part < replies.size(); ++part) {
        if (positions[part].size() == 1) {
          in_order[positions[part][0]] = replies[part];
          continue;
        }
        for (std::size_t i = 0; i < positions[part].size() && i < replies[part].elements.size(); ++i)
          in_order[positions[part][i]] = replies[part].elements[i];
      }
      return Reply::array(std::move(in_order));
    });
  }

  static RequestSlot slot_said(std::optional<std::uint16_t> slot) {
    if (!slot) return {};
    return {RequestSlot::Kind::one_slot, *slot, {}};
  }

  static PendingPtr part_request(std::string bytes, std::uint16_t slot) {
    auto part = make_recycled<Pending>();
    part->bytes = std::move(bytes);
    part->where = {RequestSlot::Kind::one_slot, slot, {}};
    return part;
  }

  // Each part routed (and redirected) on its own; the caller's one reply is made from the parts'
  // when the last completes. A part without a reply fails the whole: unavailable when no part was
  // answered (nothing ran), else with an unknown outcome (some parts may have run).
  using Merge = std::function<Reply(const std::vector<Reply>&)>;
  void send_parts(const PendingPtr& whole, std::vector<PendingPtr> parts, Merge merge) {
    struct Gather {
      PendingPtr whole;
      Merge merge;
      std::vector<Reply> replies;
      std::size_t waiting = 0;
      std::size_t answered = 0;
      std::optional<Result> failure;  // the first part that got no reply
    };
    auto gather = std::make_shared<Gather>();
    gather->whole = whole;
    gather->merge = std::move(merge);
    gather->replies.resize(parts.size());
    gather->waiting = parts.size();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      parts[i]->completion = [gather, i](Result result) {
        if (result.ok()) {
          gather->replies[i] = std::move(result.reply);
          ++gather->answered;
        } else if (!gather->failure) {
          gather->failure = std::move(result);
        }
        if (--gather->waiting > 0) return;
        if (gather->failure && gather->answered > 0)
          gather->failure = Result::failed(Failure::connection_lost,
                                           "part of it ran, part did not: " + gather->failure->error_text());
        finish(gather->whole, gather->failure ? std::move(*gather->failure) : Result::success(gather->merge(gather->replies)));
      };
    }
    for (auto& part : parts) route(std::move(part));
  }

  // SCAN's arguments, when the request is one SCAN.
  static std::optional<std::vector<std::string_view>> scan_arguments(std::string_view bytes) {
    auto args = only_command(bytes);
    const auto is_scan = [](std::string_view name) {
      return name.size() == 4 && std::equal(name.begin(), name.end(), "scan", [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
             });
    };
    if (!args || args->size() < 2 || !is_scan((*args)[0])) return std::nullopt;
    return args;
  }

  // SCAN walks the masters one after the other, the cluster's cursor saying which (scan_cursor.hpp).
  void send_scan(const PendingPtr& pending, std::vector<std::string_view> args) {
    const auto at = parse_cluster_cursor(args[1]);
    const auto masters = keeper_->map()->masters();
    if (!at || at->master >= masters.size())
      return finish(pending, Result::failed(Failure::refused, "not a cursor this cluster gave (or its masters changed "
                                                              "since): start the SCAN again from 0"));
    std::vector<std::string> node_args(args.begin(), args.end());
    node_args[1] = at->cursor;
    auto on_node = make_recycled<Pending>();
    on_node->bytes = encode_command(node_args);
    on_node->completion = [pending, master = at->master, count = masters.size()](Result result) {
      if (result.ok() && result.reply.is_array() && result.reply.elements.size() == 2)
        result.reply.elements[0].text = next_cluster_cursor(master, result.reply.elements[0].text, count);
      finish(pending, std::move(result));
    };
    send(std::move(on_node), masters[at->master], false);
  }

  // The master of the request's slot; for a keyless request, the next master in turn.
  const NodeAddress* master_for(const RequestSlot& where) {
    const auto* map = keeper_->map();
    if (!map) return nullptr;
    if (where.kind == RequestSlot::Kind::one_slot) return map->master_of(where.slot);
    const auto& masters = map->masters();
    return masters.empty() ? nullptr : &masters[next_any_++ % masters.size()];
  }

  void send(PendingPtr pending, const NodeAddress& node, bool asking) {
    Request request;
    if (asking)
      request.bytes = std::string(asking_command) + pending->bytes;
    else
      request.lent_bytes = pending->bytes;  // unchanged while it is sent: `pending` is the completion
    request.replies = pending->replies + (asking ? 1 : 0);
    pending->sender = shared_from_this();
    pending->sent_to = node;
    pending->asking = asking;
    auto* replica = replica_pool(pending->sent_to);  // a read sent to a replica; else a master's, made when new
    auto& pool = replica ? *replica : pool_for(pending->sent_to);
    request.completion = Completion(std::move(pending));
    pool.submit_on_executor(std::move(request));  // we are on the strand: no second hop
  }

  void answered(const PendingPtr& pending, Result&& result) {
    if (pending->asking) result = without_asking_reply(std::move(result), pending->replies);
    if (!result.ok()) {  // nothing to follow: unavailable was not sent, the rest has an unknown outcome
      keeper_->refresh_soon();  // the node may be gone: learn the slots again
      return finish(pending, std::move(result));
    }
    auto* map = keeper_->map();
    const auto* deciding = map ? deciding_reply(pending->bytes, pending->replies, result.reply) : nullptr;
    if (!deciding || !deciding->is_error()) return finish(pending, std::move(result));  // nearly every reply
    follow(pending, pending->redirections.after(*deciding, pending->sent_to, *map), std::move(result));
  }

  // What a reply from pending->sent_to said to do.
  void follow(const PendingPtr& pending, const NextStep& next, Result&& result) {
    switch (next.kind) {
      case NextStep::Kind::deliver:
        return finish(pending, std::move(result));
      case NextStep::Kind::send_to:
        stats_->redirects.fetch_add(1, std::memory_order_relaxed);
        keeper_->refresh_soon();  // one slot moved: others may have too
        return send(pending, next.node, false);
      case NextStep::Kind::ask_at:
        stats_->redirects.fetch_add(1, std::memory_order_relaxed);
        return send(pending, next.node, true);
      case NextStep::Kind::retry_after:
        return retry_after(pending, next.wait);
      case NextStep::Kind::refresh_and_send:
        keeper_->refresh_soon();
        return retry_after(pending, settings_.unsettled_interval);
      case NextStep::Kind::give_up:
        spdlog::debug("redis: cluster: {}", next.why);
        return finish(pending, std::move(result));
    }
  }

  void retry_after(const PendingPtr& pending, std::chrono::milliseconds wait) {
    auto timer = std::make_shared<asio::steady_timer>(executor_, wait);
    timer->async_wait([self = shared_from_this(), pending, timer](boost::system::error_code) { self->route(pending); });
  }

  static void finish(const PendingPtr& pending, Result&& result) {
    if (pending->completion) pending->completion(std::move(result));
  }

  using Pools = std::vector<std::pair<NodeAddress, std::unique_ptr<ConnectionPool>>>;

  // `node`'s pool in `pools`, or null. A cluster has a handful of nodes: a walk comparing ports first
  // finds one in a few instructions, where a search of a sorted map compared host names.
  static ConnectionPool* pool_in(const Pools& pools, const NodeAddress& node) {
    for (const auto& [address, pool] : pools)
      if (address.port == node.port && address.host == node.host) return pool.get();
    return nullptr;
  }

  // On the strand, pools_' only writer: finding a pool needs no lock (every send asks); adding one
  // takes it, for the readers on other threads.
  ConnectionPool& pool_for(const NodeAddress& node) {
    if (auto* known = pool_in(pools_, node)) return *known;
    std::lock_guard lock(pools_mutex_);
    auto& pool = pools_.emplace_back(node, nullptr).second;
    const auto connections = connections_per_master(settings_.connections, masters_known_);
    pool = std::make_unique<ConnectionPool>(executor_, settings_of(node, false), connections, stats_, events_of(node));
    pool->start();
    return *pool;
  }

  // How to reach one node: a master, or a replica read from (READONLY, ROLE slave).
  ConnectionSettings settings_of(const NodeAddress& node, bool replica) const {
    auto settings = settings_.node;
    settings.host = node.host;
    settings.port = node.port;
    settings.replica = replica;
    settings.cluster_readonly = replica;
    return settings;
  }

  ConnectionEvents events_of(const NodeAddress& node) {
    ConnectionEvents events;
    events.on_ready = [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->note_readiness();
    };
    events.on_down = [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->note_readiness();
        self->keeper_->refresh_soon();
      }
    };
    events.take_back = [weak = weak_from_this(), node](Request& request, Result& result) {
      auto self = weak.lock();
      return self && self->take_back(node, request, result);
    };
    return events;
  }

  // A map learned: every master connected before its first command, the others let go. Whether
  // every master is reachable now.
  bool connect_masters_of(const SlotMap& map) {
    masters_known_ = map.masters().size();
    for (const auto& master : map.masters()) pool_for(master);
    retire_pools_not_in(map);
    if (replica_chooser_.reads_from_replicas()) follow_replicas_of(map);
    return all_masters_ready();
  }

  // Each replica in the map gets a pool (once); those no longer replicas (promoted, removed) are let go.
  void follow_replicas_of(const SlotMap& map) {
    std::vector<NodeAddress> replicas;
    for (const auto& master : map.masters())
      for (const auto& replica : map.replicas_of(master)) replicas.push_back(replica);
    std::lock_guard lock(pools_mutex_);
    for (auto it = replica_pools_.begin(); it != replica_pools_.end();) {
      if (std::find(replicas.begin(), replicas.end(), it->first) != replicas.end()) {
        ++it;
        continue;
      }
      it->second->stop();
      retired_.push_back(std::move(it->second));  // alive until we go: a send may have picked it
      it = replica_pools_.erase(it);
    }
    const auto connections = connections_per_master(settings_.connections, masters_known_);
    for (const auto& replica : replicas) {
      if (replica_pool(replica)) continue;
      auto& pool = replica_pools_.emplace_back(replica, nullptr).second;
      pool = std::make_unique<ConnectionPool>(executor_, settings_of(replica, true), connections, stats_, events_of(replica));
      pool->start();
    }
  }

  // Nodes that serve no slot any more (a master demoted, a node removed) are let go.
  void retire_pools_not_in(const SlotMap& map) {
    std::lock_guard lock(pools_mutex_);
    for (auto it = pools_.begin(); it != pools_.end();) {
      const auto& masters = map.masters();
      if (std::find(masters.begin(), masters.end(), it->first) != masters.end()) {
        ++it;
        continue;
      }
      it->second->stop();
      retired_.push_back(std::move(it->second));  // alive until we go: a reader may hold it
      it = pools_.erase(it);
    }
    note_readiness();
  }

  bool all_masters_ready() const {
    std::lock_guard lock(pools_mutex_);
    for (const auto& [address, pool] : pools_)
      if (!pool->any_ready()) return false;
    return true;
  }

  asio::any_io_executor executor_;
  ClusterSettings settings_;
  std::shared_ptr<ClientStats> stats_;
  Unavailable unavailable_{stats_};
  std::shared_ptr<SlotMapKeeper> keeper_;  // set once, before any other thread sees this core
  std::mutex chosen_mutex_;
  NodeAddress chosen_;  // any_master()'s choice
  std::size_t chosen_turn_ = 0;
  mutable std::mutex pools_mutex_;  // pools_ changes on the strand, under it; other threads read it under it
  Pools pools_;  // in the order first met
  // With read_from a replica: the replicas in the map, by address (same lock, same writer).
  Pools replica_pools_;
  std::vector<std::unique_ptr<ConnectionPool>> retired_;
  ReplicaChooser replica_chooser_;
  std::size_t masters_known_ = 0;  // in the last map learned, sharing out the connections (on the strand)
  bool stopped_ = false;
  std::atomic<bool> any_ready_{false};  // note_readiness()'s last answer
  std::size_t next_any_ = 0;
  Inbox<Request> inbox_;
};

ClusterPool::ClusterPool(asio::any_io_executor executor, ClusterSettings settings, std::shared_ptr<ClientStats> stats)
    : core_(std::make_shared<Core>(std::move(executor), std::move(settings), std::move(stats))) {
  core_->keep_slot_map();
}

ClusterPool::~ClusterPool() { core_->stop(); }

void ClusterPool::start() { core_->start(); }
void ClusterPool::stop() { core_->stop(); }
bool ClusterPool::any_ready() const { return core_->any_ready(); }

std::size_t ClusterPool::ready_count() const {
  std::size_t count = 0;
  for (const auto& master : core_->masters()) count += master.connections_ready;
  return count;
}

void ClusterPool::submit(Request&& request) { core_->submit(std::move(request)); }
std::vector<SinkNode> ClusterPool::nodes() const { return core_->masters(); }
std::vector<SinkNode> ClusterPool::replicas() const { return core_->replicas(); }
std::string ClusterPool::node_for_key(std::string_view key) const { return core_->master_of_key(key); }
std::shared_ptr<const MasterLookup> ClusterPool::any_master() const { return core_->any_master_lookup(); }

}  // namespace routemq::redis
