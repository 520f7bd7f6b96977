// Following a Sentinel-watched master, step by step, without a socket: events in, actions out
// (plugins/redis/sentinel/sentinel_fsm.hpp). Each race CI found in the locator is one case here.
#include <catch2/catch.hpp>

#include <algorithm>

#include "plugins/redis/sentinel/sentinel_fsm.hpp"

using namespace routemq::redis;
using namespace std::chrono_literals;
using SentinelKind = SentinelAction::Kind;

namespace {

const NodeAddress sentinel_1{"10.0.1.1", 26379};
const NodeAddress sentinel_2{"10.0.1.2", 26379};
const NodeAddress sentinel_3{"10.0.1.3", 26379};
const NodeAddress old_master{"10.0.0.5", 6379};
const NodeAddress new_master{"10.0.0.6", 6379};

SentinelFsm three_sentinels() { return SentinelFsm("mymaster", {sentinel_1, sentinel_2, sentinel_3}, 100ms, 1000ms); }

std::vector<SentinelKind> sentinel_kinds(const SentinelActions& actions) {
  std::vector<SentinelKind> kinds;
  for (const auto& action : actions)
    if (action.kind != SentinelKind::log_debug && action.kind != SentinelKind::log_info &&
        action.kind != SentinelKind::log_warn)
      kinds.push_back(action.kind);  // the logs are looked at where they matter
  return kinds;
}

const SentinelAction* find_sentinel_action(const SentinelActions& actions, SentinelKind kind) {
  const auto found =
      std::find_if(actions.begin(), actions.end(), [kind](const SentinelAction& a) { return a.kind == kind; });
  return found == actions.end() ? nullptr : &*found;
}

// The question the actions ask; fails the test when they ask none.
const SentinelAction& question_in(const SentinelActions& actions) {
  const auto* ask = find_sentinel_action(actions, SentinelKind::ask);
  REQUIRE(ask);
  return *ask;
}

SentinelAnswer names(const NodeAddress& master, std::vector<NodeAddress> peers = {}) {
  return {master, std::move(peers), {}};
}

SentinelAnswer no_master(std::string problem) { return {std::nullopt, {}, std::move(problem)}; }

}  // namespace

TEST_CASE("sentinel fsm: the first Sentinel to name the master wins, the others it knows are learned") {
  auto fsm = three_sentinels();
  const auto& asked = fsm.start();
  const auto first = question_in(asked);
  CHECK(first.index == 0);
  CHECK(first.address == sentinel_1);
  const NodeAddress learned{"10.0.1.4", 26379};
  const auto answer = fsm.answered(first.ticket, names(old_master, {sentinel_2, learned}));
  CHECK(sentinel_kinds(answer) == std::vector<SentinelKind>{SentinelKind::learned, SentinelKind::adopt, SentinelKind::watch});
  CHECK(find_sentinel_action(answer, SentinelKind::learned)->sentinels ==
        std::vector<NodeAddress>{sentinel_1, sentinel_2, sentinel_3, learned});  // added after those known
  const auto* adopt = find_sentinel_action(answer, SentinelKind::adopt);
  CHECK(adopt->address == old_master);
  CHECK(adopt->moved);
  CHECK(adopt->text == "Sentinel 10.0.1.1:26379");
  CHECK(fsm.master() == old_master);
  CHECK(fsm.phase() == SentinelFsm::Phase::settled);
}

TEST_CASE("sentinel fsm: a Sentinel that is down or does not know the name is skipped for the next") {
  auto fsm = three_sentinels();
  const auto first = question_in(fsm.start());
  const auto second = question_in(fsm.answered(first.ticket, no_master("connection refused")));
  CHECK(second.index == 1);
  const auto third = question_in(fsm.answered(second.ticket, no_master("nil")));
  CHECK(third.index == 2);
  const auto answer = fsm.answered(third.ticket, names(old_master));
  CHECK(find_sentinel_action(answer, SentinelKind::adopt)->text == "Sentinel 10.0.1.3:26379");
}

TEST_CASE("sentinel fsm: none answering: the problem names each, a retry after a backoff that grows, warned once") {
  auto fsm = three_sentinels();
  auto ask = question_in(fsm.start());
  SentinelActions round_end;
  for (int i = 0; i < 3; ++i) {
    round_end = fsm.answered(ask.ticket, no_master("connection refused"));
    if (i < 2) ask = question_in(round_end);
  }
  CHECK(sentinel_kinds(round_end) == std::vector<SentinelKind>{SentinelKind::problem, SentinelKind::schedule_retry});
  CHECK(find_sentinel_action(round_end, SentinelKind::problem)->text ==
        "none of 3 Sentinel(s) named a master for 'mymaster' (10.0.1.1:26379: connection refused; 10.0.1.2:26379: "
        "connection refused; 10.0.1.3:26379: connection refused)");
  CHECK(find_sentinel_action(round_end, SentinelKind::log_warn));
  const auto& retry = *find_sentinel_action(round_end, SentinelKind::schedule_retry);
  CHECK(retry.delay == 100ms);
  CHECK(fsm.phase() == SentinelFsm::Phase::waiting);

  ask = question_in(fsm.retry_due(retry.ticket));
  for (int i = 0; i < 3; ++i) {
    round_end = fsm.answered(ask.ticket, no_master("connection refused"));
    if (i < 2) ask = question_in(round_end);
  }
  CHECK(find_sentinel_action(round_end, SentinelKind::schedule_retry)->delay == 200ms);
  CHECK_FALSE(find_sentinel_action(round_end, SentinelKind::log_warn));  // the same reason: said once
}

TEST_CASE("sentinel fsm: a sign while a backoff's retry is pending does not start a round (no storm)") {
  auto fsm = SentinelFsm("mymaster", {sentinel_1}, 100ms, 1000ms);
  const auto ask = question_in(fsm.start());
  const auto round_end = fsm.answered(ask.ticket, no_master("connection refused"));
  const int retry_ticket = find_sentinel_action(round_end, SentinelKind::schedule_retry)->ticket;
  for (int i = 0; i < 50; ++i)  // every connection waiting for a master says so, a few times a second
    CHECK(sentinel_kinds(fsm.sign({}, "a connection is waiting for a master")).empty());
  CHECK(fsm.phase() == SentinelFsm::Phase::waiting);
  CHECK(question_in(fsm.retry_due(retry_ticket)).address == sentinel_1);
  CHECK(fsm.retry_due(retry_ticket).empty());  // the same timer again: a round is on already
}

TEST_CASE("sentinel fsm: a sign about the master restarts the round from the Sentinel after the one that answered") {
  auto fsm = three_sentinels();
  const auto first = question_in(fsm.start());
  const auto second = question_in(fsm.answered(first.ticket, no_master("connection refused")));
  fsm.answered(second.ticket, names(old_master));  // Sentinel 2 (index 1) answered
  const auto again = fsm.sign(old_master, "connection lost");
  CHECK(question_in(again).index == 2);  // not the one whose answer is in doubt
  const auto answer = fsm.answered(question_in(again).ticket, names(new_master));
  const auto* adopt = find_sentinel_action(answer, SentinelKind::adopt);
  CHECK(adopt->address == new_master);
  CHECK(adopt->moved);
  CHECK(find_sentinel_action(answer, SentinelKind::log_warn)->text ==
        "Sentinel: the master of 'mymaster' moved from 10.0.0.5:6379 to 10.0.0.6:6379 (Sentinel 10.0.1.3:26379): following it");
}

TEST_CASE("sentinel fsm: a sign about an address already left behind is ignored") {
  auto fsm = three_sentinels();
  fsm.answered(question_in(fsm.start()).ticket, names(new_master));
  CHECK(fsm.sign(old_master, "READONLY").empty());
  CHECK(fsm.phase() == SentinelFsm::Phase::settled);
}

TEST_CASE("sentinel fsm: a sign from no address asks again from where the last round started") {
  auto fsm = three_sentinels();
  fsm.answered(question_in(fsm.start()).ticket, names(old_master));
  CHECK(question_in(fsm.sign({}, "a connection is waiting for a master")).index == 0);
}

TEST_CASE("sentinel fsm: a Sentinel naming a replica is refuted by ROLE and the next Sentinel is asked") {
  auto fsm = three_sentinels();
  const auto stale = question_in(fsm.start());
  fsm.answered(stale.ticket, names(old_master));  // Sentinel 1 has not heard of the failover yet
  // A connection's handshake: ROLE says slave (connection_fsm fails the attempt and suspects it).
  const auto refuted = fsm.sign(old_master, "10.0.0.5:6379 is not a master (ROLE [slave ...])");
  const auto next = question_in(refuted);
  CHECK(next.address == sentinel_2);
  fsm.answered(next.ticket, names(new_master));
  CHECK(fsm.master() == new_master);
}

TEST_CASE("sentinel fsm: a second ROLE sign about the replica left behind does not start a round that swings back") {
  auto fsm = three_sentinels();
  const auto stale = question_in(fsm.start());
  fsm.answered(stale.ticket, names(old_master));  // Sentinel 1 is stale: it names the replica
  // Two connections reached the replica; the first sign starts a round (from Sentinel 2) ...
  const auto round = question_in(fsm.sign(old_master, "ROLE slave (first connection)"));
  CHECK(round.index == 1);
  // ... and the second arrives while that round is asking: remembered, not a round of its own.
  CHECK(sentinel_kinds(fsm.sign(old_master, "ROLE slave (second connection)")).empty());
  const auto answer = fsm.answered(round.ticket, names(new_master));
  CHECK(find_sentinel_action(answer, SentinelKind::adopt)->address == new_master);
  // The remembered sign was about the replica this answer left behind: no round after it, which
  // could have asked the stale Sentinel 1 again and swung back to the replica.
  CHECK_FALSE(find_sentinel_action(answer, SentinelKind::ask));
  CHECK(fsm.phase() == SentinelFsm::Phase::settled);
  CHECK(fsm.master() == new_master);
  // And the doubt went with it: the next real sign about the new master starts after Sentinel 2.
  CHECK(question_in(fsm.sign(new_master, "connection lost")).index == 2);
}

TEST_CASE("sentinel fsm: a sign during a round that doubts the round's own answer asks once more") {
  auto fsm = three_sentinels();
  fsm.answered(question_in(fsm.start()).ticket, names(old_master));
  const auto round = question_in(fsm.sign(old_master, "connection lost"));
  CHECK(sentinel_kinds(fsm.sign(old_master, "timeout")).empty());  // about the same master, remembered
  // The round's Sentinel names the same master again: the remembered sign doubts it.
  const auto answer = fsm.answered(round.ticket, names(old_master));
  CHECK_FALSE(find_sentinel_action(answer, SentinelKind::adopt)->moved);
  const auto* again = find_sentinel_action(answer, SentinelKind::ask);
  REQUIRE(again);
  CHECK(again->index == 2);  // after the Sentinel that answered (index 1)
}

TEST_CASE("sentinel fsm: a sign from no address during a round asks once more after it") {
  auto fsm = three_sentinels();
  const auto first = question_in(fsm.start());
  CHECK(sentinel_kinds(fsm.sign({}, "a connection is waiting for a master")).empty());
  const auto answer = fsm.answered(first.ticket, names(old_master));
  CHECK(find_sentinel_action(answer, SentinelKind::ask));
}

TEST_CASE("sentinel fsm: +switch-master is adopted at once, and the followers told only of a move") {
  auto fsm = three_sentinels();
  fsm.answered(question_in(fsm.start()).ticket, names(old_master));
  const auto switched = fsm.switched(new_master, "+switch-master from Sentinel 10.0.1.1:26379");
  CHECK(sentinel_kinds(switched) == std::vector<SentinelKind>{SentinelKind::adopt});
  CHECK(switched[0].moved);
  CHECK(fsm.master() == new_master);
  const auto repeated = fsm.switched(new_master, "+switch-master from Sentinel 10.0.1.1:26379");
  CHECK_FALSE(find_sentinel_action(repeated, SentinelKind::adopt)->moved);
  CHECK(fsm.sign(old_master, "connection lost").empty());  // the old master is left behind now
}

TEST_CASE("sentinel fsm: stale answers and timers are ignored, and nothing happens once stopped") {
  auto fsm = three_sentinels();
  CHECK(fsm.sign({}, "before the start").empty());
  const auto first = question_in(fsm.start());
  CHECK(fsm.start().empty());
  CHECK(fsm.answered(first.ticket + 1, names(old_master)).empty());  // not the question in flight
  fsm.stop();
  CHECK(fsm.answered(first.ticket, names(old_master)).empty());
  CHECK(fsm.sign(old_master, "connection lost").empty());
  CHECK(fsm.switched(new_master, "+switch-master").empty());
  CHECK(fsm.retry_due(0).empty());
  CHECK_FALSE(fsm.master());
}

TEST_CASE("sentinel fsm: with no Sentinel known the round ends at once and retries") {
  SentinelFsm fsm("mymaster", {}, 100ms, 1000ms);
  CHECK(sentinel_kinds(fsm.start()) == std::vector<SentinelKind>{SentinelKind::problem, SentinelKind::schedule_retry});
}
