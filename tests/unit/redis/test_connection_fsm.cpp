// The connection's lifecycle, step by step, without a socket: events in, actions out
// (plugins/redis/connection/connection_fsm.hpp). Each race the connection met is one case here.
#include <catch2/catch.hpp>

#include <algorithm>

#include "plugins/redis/connection/connection_fsm.hpp"

using namespace routemq::redis;
using namespace std::chrono_literals;
using LinkKind = LinkAction::Kind;

namespace {

ConnectionSettings fixed_address_settings() {
  ConnectionSettings settings;
  settings.host = "10.0.0.1";
  settings.port = 6379;
  settings.reconnect_min = 100ms;
  settings.reconnect_max = 1000ms;
  settings.command_timeout = 500ms;
  settings.health_check_interval = 2000ms;
  return settings;
}

// Following an address source (a Sentinel's master, say): what the source does is not the FSM's business.
ConnectionSettings source_settings() {
  auto settings = fixed_address_settings();
  settings.master_lookup = std::make_shared<MasterLookup>();
  return settings;
}

const NodeAddress master_a{"10.0.0.5", 6379};
const NodeAddress master_b{"10.0.0.6", 6379};

AddressAnswer source_at(const NodeAddress& address) { return {address, {}}; }

std::vector<LinkKind> kinds_of(const LinkActions& actions) {
  std::vector<LinkKind> kinds;
  for (const auto& action : actions) kinds.push_back(action.kind);
  return kinds;
}

const LinkAction* find_action(const LinkActions& actions, LinkKind kind) {
  const auto found = std::find_if(actions.begin(), actions.end(), [kind](const LinkAction& a) { return a.kind == kind; });
  return found == actions.end() ? nullptr : &*found;
}

Reply role_reply(const char* role) { return Reply::array({Reply::string(role), Reply::number(0)}); }
// A replica's ROLE reply: its master, its link to it ("connected" once it holds the data), its offset.
Reply replica_role_reply(const char* state) {
  return Reply::array({Reply::string("slave"), Reply::string("10.0.0.9"), Reply::number(6379), Reply::string(state),
                       Reply::number(100)});
}

// Drives a machine to ready against `where`: start, opened, the handshake's replies.
void bring_up(ConnectionFsm& fsm, const AddressAnswer& where, std::vector<Reply> replies) {
  const auto started = fsm.start(where);
  REQUIRE(kinds_of(started) == std::vector<LinkKind>{LinkKind::open});
  REQUIRE(kinds_of(fsm.opened(fsm.generation(), "")) == std::vector<LinkKind>{LinkKind::send_handshake});
  const auto ready = fsm.handshake_replied(fsm.generation(), replies);
  REQUIRE(find_action(ready, LinkKind::ready));
  REQUIRE(fsm.state() == LinkState::ready);
}

}  // namespace

TEST_CASE("connection fsm: backoff doubles from the minimum up to the cap, the jitter keeps half to all") {
  CHECK(backoff_delay(0, 100ms, 1000ms, 0.0) == 100ms);
  CHECK(backoff_delay(1, 100ms, 1000ms, 0.0) == 200ms);
  CHECK(backoff_delay(3, 100ms, 1000ms, 0.0) == 800ms);
  CHECK(backoff_delay(4, 100ms, 1000ms, 0.0) == 1000ms);
  CHECK(backoff_delay(60, 100ms, 1000ms, 0.0) == 1000ms);  // the exponent is capped: no overflow
  CHECK(backoff_delay(0, 100ms, 1000ms, 0.5) == 75ms);
  CHECK(backoff_delay(0, 100ms, 1000ms, 1.0) == 50ms);
}

TEST_CASE("connection fsm: a fixed address connects, sends a PING when there is nothing to set up, and is ready") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.0; });
  CHECK(fsm.first_attempt());
  const auto started = fsm.start({});
  REQUIRE(kinds_of(started) == std::vector<LinkKind>{LinkKind::open});
  CHECK_FALSE(started[0].address);  // the transport keeps the address it was made with
  CHECK(fsm.state() == LinkState::connecting);
  const auto opened = fsm.opened(fsm.generation(), "");
  REQUIRE(kinds_of(opened) == std::vector<LinkKind>{LinkKind::send_handshake});
  CHECK(opened[0].commands == std::vector<std::vector<std::string>>{{"PING"}});
  CHECK(fsm.state() == LinkState::handshaking);
  const auto ready = fsm.handshake_replied(fsm.generation(), {Reply::status("PONG")});
  CHECK(kinds_of(ready) == std::vector<LinkKind>{LinkKind::ready});  // no source: nobody to tell it was reached
  CHECK_FALSE(ready[0].reconnected);
  CHECK(fsm.state() == LinkState::ready);
  CHECK_FALSE(fsm.first_attempt());
  CHECK(fsm.start({}).empty());  // started once
}

TEST_CASE("connection fsm: the handshake sends AUTH, SELECT and CLIENT SETNAME, and ROLE when following a source") {
  auto settings = source_settings();
  settings.username = "app";
  settings.password = "secret";
  settings.db = 3;
  settings.client_name = "router";
  ConnectionFsm fsm(settings, [] { return 0.0; });
  const auto started = fsm.start(source_at(master_a));
  REQUIRE(started.at(0).address == master_a);
  const auto opened = fsm.opened(fsm.generation(), "");
  CHECK(opened.at(0).commands == std::vector<std::vector<std::string>>{
                                     {"AUTH", "app", "secret"}, {"SELECT", "3"}, {"CLIENT", "SETNAME", "router"}, {"ROLE"}});
  settings.username.clear();
  ConnectionFsm without_user(settings, [] { return 0.0; });
  without_user.start(source_at(master_a));
  CHECK(without_user.opened(without_user.generation(), "").at(0).commands.at(0) ==
        std::vector<std::string>{"AUTH", "secret"});
}

TEST_CASE("connection fsm: a source's server that answers ROLE master is reached before ready shows") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  fsm.start(source_at(master_a));
  fsm.opened(fsm.generation(), "");
  const auto ready = fsm.handshake_replied(fsm.generation(), {role_reply("master")});
  REQUIRE(kinds_of(ready) == std::vector<LinkKind>{LinkKind::reached, LinkKind::ready});
  CHECK(ready[0].address == master_a);
}

TEST_CASE("connection fsm: a stale answer is refuted by ROLE: a replica fails the attempt and is suspected") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  fsm.start(source_at(master_a));
  fsm.opened(fsm.generation(), "");
  const auto refused = fsm.handshake_replied(fsm.generation(), {role_reply("slave")});
  CHECK(kinds_of(refused) ==
        std::vector<LinkKind>{LinkKind::note_failure, LinkKind::suspect, LinkKind::log_warn, LinkKind::drop, LinkKind::backoff});
  CHECK_THAT(find_action(refused, LinkKind::drop)->text, Catch::Contains("10.0.0.5:6379 is not a master (ROLE"));
  CHECK(find_action(refused, LinkKind::suspect)->address == master_a);
  CHECK(find_action(refused, LinkKind::drop)->failure == Failure::connection_lost);
  CHECK(fsm.state() == LinkState::down);
}

TEST_CASE("connection fsm: an error in the handshake refuses the connection, without a source nothing is suspected") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.0; });
  fsm.start({});
  fsm.opened(fsm.generation(), "");
  const auto refused = fsm.handshake_replied(fsm.generation(), {Reply::error("WRONGPASS invalid password")});
  CHECK(kinds_of(refused) == std::vector<LinkKind>{LinkKind::note_failure, LinkKind::log_warn, LinkKind::drop, LinkKind::backoff});
  CHECK(find_action(refused, LinkKind::drop)->text == "handshake refused: WRONGPASS invalid password");
  CHECK(find_action(refused, LinkKind::note_failure)->text ==
        "10.0.0.1:6379 cannot connect: handshake refused: WRONGPASS invalid password");
  CHECK(find_action(refused, LinkKind::note_failure)->connection_failed);  // counted before it shows
}

TEST_CASE("connection fsm: failed attempts back off longer each time, the warning is logged once per outage") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.0; });
  fsm.start({});
  const auto first = fsm.opened(fsm.generation(), "connection refused");
  CHECK(find_action(first, LinkKind::log_warn));
  CHECK(find_action(first, LinkKind::backoff)->delay == 100ms);
  CHECK_FALSE(fsm.first_attempt());
  const auto retry = fsm.backoff_elapsed(find_action(first, LinkKind::backoff)->generation, {});
  REQUIRE(kinds_of(retry) == std::vector<LinkKind>{LinkKind::open});
  const auto second = fsm.opened(fsm.generation(), "connection refused");
  CHECK_FALSE(find_action(second, LinkKind::log_warn));  // the same outage
  CHECK(find_action(second, LinkKind::backoff)->delay == 200ms);
  fsm.backoff_elapsed(find_action(second, LinkKind::backoff)->generation, {});
  fsm.opened(fsm.generation(), "");
  const auto ready = fsm.handshake_replied(fsm.generation(), {Reply::status("PONG")});
  CHECK(find_action(ready, LinkKind::ready));
  const auto lost = fsm.lost(fsm.generation(), Failure::connection_lost, "Redis closed the connection");
  CHECK(find_action(lost, LinkKind::log_warn)->text == "10.0.0.1:6379 connection lost: Redis closed the connection");
  CHECK(find_action(lost, LinkKind::backoff)->delay == 100ms);  // the count starts again after a success
  fsm.backoff_elapsed(find_action(lost, LinkKind::backoff)->generation, {});
  fsm.opened(fsm.generation(), "");
  const auto back = fsm.handshake_replied(fsm.generation(), {Reply::status("PONG")});
  CHECK(find_action(back, LinkKind::ready)->reconnected);
  CHECK(find_action(back, LinkKind::log_info)->text == "reconnected to 10.0.0.1:6379");
}

TEST_CASE("connection fsm: the injected jitter shortens the backoff, so tests know it") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.5; });
  fsm.start({});
  CHECK(find_action(fsm.opened(fsm.generation(), "refused"), LinkKind::backoff)->delay == 75ms);
}

TEST_CASE("connection fsm: callbacks of an older attempt are stale and change nothing") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.0; });
  fsm.start({});
  const int first = fsm.generation();
  const auto failed = fsm.connect_timed_out(first, "no connection within the connect timeout");
  CHECK(find_action(failed, LinkKind::drop)->failure == Failure::timeout);
  const int backoff_ticket = find_action(failed, LinkKind::backoff)->generation;
  fsm.backoff_elapsed(backoff_ticket, {});
  REQUIRE(fsm.state() == LinkState::connecting);
  // The first attempt's socket answers late, its timer fires late, its backoff timer fires again.
  CHECK(fsm.opened(first, "").empty());
  CHECK(fsm.connect_timed_out(first, "late").empty());
  CHECK(fsm.lost(first, Failure::connection_lost, "late").empty());
  CHECK(fsm.handshake_replied(first, {Reply::status("PONG")}).empty());
  CHECK(fsm.backoff_elapsed(backoff_ticket, {}).empty());
  CHECK(fsm.state() == LinkState::connecting);
  // A connect timeout after the handshake passed is no failure.
  fsm.opened(fsm.generation(), "");
  fsm.handshake_replied(fsm.generation(), {Reply::status("PONG")});
  CHECK(fsm.connect_timed_out(fsm.generation(), "late").empty());
  CHECK(fsm.state() == LinkState::ready);
}

TEST_CASE("connection fsm: stop during the handshake shuts once, and the handshake's replies then change nothing") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  fsm.start(source_at(master_a));
  fsm.opened(fsm.generation(), "");
  const int handshake = fsm.generation();
  CHECK(kinds_of(fsm.stop()) == std::vector<LinkKind>{LinkKind::shut});
  CHECK(fsm.state() == LinkState::stopped);
  CHECK(fsm.handshake_replied(handshake, {role_reply("master")}).empty());
  CHECK(fsm.lost(fsm.generation(), Failure::connection_lost, "closed").empty());
  CHECK(fsm.tick({}, source_at(master_b)).empty());
  CHECK(fsm.master_moved(source_at(master_b)).empty());
  CHECK(fsm.stop().empty());
  CHECK(fsm.state() == LinkState::stopped);
}

TEST_CASE("connection fsm: without reconnecting, a failure ends in stopped") {
  auto settings = fixed_address_settings();
  settings.reconnect = false;
  settings.log_failures = false;
  ConnectionFsm fsm(settings, [] { return 0.0; });
  fsm.start({});
  const auto failed = fsm.opened(fsm.generation(), "connection refused");
  CHECK(kinds_of(failed) == std::vector<LinkKind>{LinkKind::note_failure, LinkKind::drop, LinkKind::give_up});
  CHECK(fsm.state() == LinkState::stopped);
}

TEST_CASE("connection fsm: a reply overdue fails the connection as a command timeout, an idle one gets a PING") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.0; });
  bring_up(fsm, {}, {Reply::status("PONG")});
  CHECK(fsm.tick({.oldest_written_age = 400ms, .empty = false, .idle_for = 400ms}, {}).empty());
  CHECK(fsm.tick({.oldest_written_age = std::nullopt, .empty = true, .idle_for = 1000ms}, {}).empty());
  CHECK(kinds_of(fsm.tick({.oldest_written_age = std::nullopt, .empty = true, .idle_for = 2500ms}, {})) ==
        std::vector<LinkKind>{LinkKind::health_check});
  const auto overdue = fsm.tick({.oldest_written_age = 600ms, .empty = false, .idle_for = 600ms}, {});
  const auto* drop = find_action(overdue, LinkKind::drop);
  REQUIRE(drop);
  CHECK(drop->failure == Failure::timeout);
  CHECK(drop->command_timed_out);
  CHECK(fsm.state() == LinkState::down);
  CHECK(fsm.tick({.oldest_written_age = 900ms, .empty = false, .idle_for = 900ms}, {}).empty());  // down: nothing to time out
}

TEST_CASE("connection fsm: a health check interval of 0 turns the idle PING off, the command timeout still counts") {
  auto settings = fixed_address_settings();
  settings.health_check_interval = 0ms;  // seed 004's health_check_interval: 0
  ConnectionFsm fsm(settings, [] { return 0.0; });
  bring_up(fsm, {}, {Reply::status("PONG")});
  CHECK(fsm.tick({.oldest_written_age = std::nullopt, .empty = true, .idle_for = 1ms}, {}).empty());
  CHECK(fsm.tick({.oldest_written_age = std::nullopt, .empty = true, .idle_for = 3600s}, {}).empty());
  const auto overdue = fsm.tick({.oldest_written_age = 600ms, .empty = false, .idle_for = 600ms}, {});
  REQUIRE(find_action(overdue, LinkKind::drop));
  CHECK(find_action(overdue, LinkKind::drop)->failure == Failure::timeout);
}

TEST_CASE("connection fsm: READONLY from a source's server is a sign it moved, the connection stays") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  bring_up(fsm, source_at(master_a), {role_reply("master")});
  const auto sign = fsm.error_reply("READONLY You can't write against a read only replica.");
  REQUIRE(kinds_of(sign) == std::vector<LinkKind>{LinkKind::suspect});
  CHECK(sign[0].address == master_a);
  CHECK(fsm.state() == LinkState::ready);
  CHECK(fsm.error_reply("ERR wrong number of arguments").empty());
  ConnectionFsm fixed(fixed_address_settings(), [] { return 0.0; });
  bring_up(fixed, {}, {Reply::status("PONG")});
  CHECK(fixed.error_reply("READONLY You can't write against a read only replica.").empty());
}

TEST_CASE("connection fsm: a source that knows no address yet is waited for, and told so, without a failure counted") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  const auto waiting = fsm.start({std::nullopt, "none of 3 Sentinel(s) named a master"});
  CHECK(kinds_of(waiting) == std::vector<LinkKind>{LinkKind::note_failure, LinkKind::suspect, LinkKind::backoff});
  CHECK(waiting[0].text == "no master known yet: none of 3 Sentinel(s) named a master");
  CHECK_FALSE(waiting[0].connection_failed);  // nothing was tried: no connection failed
  CHECK(waiting[1].address == NodeAddress{});  // from no address: nothing was tried
  CHECK(fsm.state() == LinkState::down);
  const auto retry = fsm.backoff_elapsed(waiting[2].generation, source_at(master_a));
  REQUIRE(kinds_of(retry) == std::vector<LinkKind>{LinkKind::open});
  CHECK(retry[0].address == master_a);
}

TEST_CASE("connection fsm: the master moved while down waiting out a backoff: reconnect at once, no backoff") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  bring_up(fsm, source_at(master_a), {role_reply("master")});
  for (int i = 0; i < 3; ++i) {  // a few failed attempts: the backoff has grown
    const auto failed = fsm.lost(fsm.generation(), Failure::connection_lost, "refused");
    fsm.backoff_elapsed(find_action(failed, LinkKind::backoff)->generation, source_at(master_a));
  }
  const auto failed = fsm.opened(fsm.generation(), "refused");
  const int stale_backoff = find_action(failed, LinkKind::backoff)->generation;
  REQUIRE(fsm.state() == LinkState::down);
  const auto moved = fsm.master_moved(source_at(master_b));
  REQUIRE(kinds_of(moved) == std::vector<LinkKind>{LinkKind::open});
  CHECK(moved[0].address == master_b);
  CHECK(fsm.backoff_elapsed(stale_backoff, source_at(master_b)).empty());  // the old backoff's timer is stale
  fsm.opened(fsm.generation(), "");
  fsm.handshake_replied(fsm.generation(), {role_reply("master")});
  // The new master has not failed us: a failure there backs off from the minimum.
  CHECK(find_action(fsm.lost(fsm.generation(), Failure::connection_lost, "x"), LinkKind::backoff)->delay == 100ms);
}

TEST_CASE("connection fsm: the master moved while ready: requests in flight fail, the move is followed") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  bring_up(fsm, source_at(master_a), {role_reply("master")});
  CHECK(fsm.master_moved(source_at(master_a)).empty());   // where it is already
  CHECK(fsm.master_moved({std::nullopt, "asking"}).empty());  // no answer: stay
  const auto moved = fsm.master_moved(source_at(master_b));
  const auto* drop = find_action(moved, LinkKind::drop);
  REQUIRE(drop);
  CHECK(drop->text == "the master moved to 10.0.0.6:6379");
  CHECK(find_action(moved, LinkKind::backoff)->delay == 100ms);
  // The next attempt goes to the new master; a tick while down follows it at once too.
  const auto tick = fsm.tick({}, source_at(master_b));
  REQUIRE(kinds_of(tick) == std::vector<LinkKind>{LinkKind::open});
  CHECK(tick[0].address == master_b);
}

TEST_CASE("connection fsm: the master moved while connecting: the attempt starts again at the new address") {
  ConnectionFsm fsm(source_settings(), [] { return 0.0; });
  fsm.start(source_at(master_a));
  const int old_attempt = fsm.generation();
  const auto moved = fsm.master_moved(source_at(master_b));
  REQUIRE(kinds_of(moved) == std::vector<LinkKind>{LinkKind::open});
  CHECK(moved[0].address == master_b);
  CHECK(fsm.opened(old_attempt, "").empty());
  CHECK(fsm.state() == LinkState::connecting);
}

TEST_CASE("connection fsm: without a source, moves are not followed") {
  ConnectionFsm fsm(fixed_address_settings(), [] { return 0.0; });
  bring_up(fsm, {}, {Reply::status("PONG")});
  CHECK(fsm.master_moved(source_at(master_b)).empty());
  CHECK(fsm.tick({}, source_at(master_b)).empty());
  const auto lost = fsm.lost(fsm.generation(), Failure::connection_lost, "closed");
  CHECK_FALSE(find_action(lost, LinkKind::suspect));
}

TEST_CASE("connection fsm: a unix socket is named by its path") {
  auto settings = fixed_address_settings();
  settings.socket_path = "/run/redis.sock";
  ConnectionFsm fsm(settings, [] { return 0.0; });
  fsm.start({});
  CHECK(find_action(fsm.opened(fsm.generation(), "no such file"), LinkKind::note_failure)->text ==
        "unix:/run/redis.sock cannot connect: no such file");
}

TEST_CASE("connection fsm: a replica's connection sends READONLY on a cluster, asks ROLE, and wants slave") {
  auto settings = fixed_address_settings();
  settings.replica = true;
  settings.cluster_readonly = true;
  ConnectionFsm fsm(settings, [] { return 0.0; });
  fsm.start({});
  const auto opened = fsm.opened(fsm.generation(), "");
  CHECK(opened.at(0).commands == std::vector<std::vector<std::string>>{{"READONLY"}, {"ROLE"}});
  const auto ready = fsm.handshake_replied(fsm.generation(), {Reply::status("OK"), replica_role_reply("connected")});
  CHECK(kinds_of(ready) == std::vector<LinkKind>{LinkKind::ready});  // a fixed address: nobody to tell

  settings.cluster_readonly = false;  // behind Sentinel: ROLE only
  ConnectionFsm promoted(settings, [] { return 0.0; });
  promoted.start({});
  CHECK(promoted.opened(promoted.generation(), "").at(0).commands == std::vector<std::vector<std::string>>{{"ROLE"}});
  const auto refused = promoted.handshake_replied(promoted.generation(), {role_reply("master")});
  CHECK_THAT(find_action(refused, LinkKind::drop)->text, Catch::Contains("10.0.0.1:6379 is not a replica (ROLE"));
  CHECK_FALSE(find_action(refused, LinkKind::suspect));  // no source to tell
  CHECK(promoted.state() == LinkState::down);
}

TEST_CASE("connection fsm: a replica still syncing with its master is not read from until it has the data") {
  auto settings = fixed_address_settings();
  settings.replica = true;
  for (const char* state : {"connect", "connecting", "sync", ""}) {
    ConnectionFsm fsm(settings, [] { return 0.0; });
    fsm.start({});
    fsm.opened(fsm.generation(), "");
    const auto refused = fsm.handshake_replied(fsm.generation(), {replica_role_reply(state)});
    INFO("replication state '" << state << "'");
    REQUIRE(find_action(refused, LinkKind::drop));
    CHECK_THAT(find_action(refused, LinkKind::drop)->text, Catch::Contains("still syncing with its master"));
    CHECK(fsm.state() == LinkState::down);  // tried again after its backoff: by then it may be in sync
  }
  ConnectionFsm fsm(settings, [] { return 0.0; });
  bring_up(fsm, {}, {replica_role_reply("connected")});
  CHECK(fsm.state() == LinkState::ready);
}
