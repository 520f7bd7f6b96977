#pragma once
// The names README's examples use without defining them, with the types the text around each one
// implies. Included by the file generated from README.md (extract_examples.cmake); nothing here runs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <routemq/routemq.hpp>

// Assumed by the examples that are whole files (a user's own middleware and handler).
struct Audit {
  routemq::awaitable<void> handle(routemq::Context&, routemq::Next next) { co_await next(); }
};
inline void handle_user(routemq::Context&) {}

// Assumed by the fragments, which are statements inside a handler. They write `redis::` for
// routemq::redis, `asio::` for boost::asio and use std::chrono's literals (60s).
namespace readme_fragments {
namespace redis = routemq::redis;
namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Database {  // the service's own store, behind write-through and write-behind
  routemq::awaitable<void> save_user(const nlohmann::json&) { co_return; }
  routemq::awaitable<void> save_all(const std::vector<redis::PendingWrite>&) { co_return; }
};
inline routemq::awaitable<nlohmann::json> load_user(std::string) { co_return nlohmann::json{}; }
inline routemq::awaitable<void> work() { co_return; }
inline routemq::awaitable<void> handler(redis::RedisManager&) { co_return; }
inline void log(const std::string&) {}
inline void reply_error(const std::string&) {}
inline redis::Encoded my_encode(const nlohmann::json&) { return {}; }
inline redis::Decoded my_decode(std::string_view) { return {}; }
}  // namespace readme_fragments

// Every fragment is a coroutine with these parameters: the handler's context and app, the manager, and
// the values the examples store.
#define README_FRAGMENT_PARAMETERS                                                                      \
  [[maybe_unused]] routemq::App &app, [[maybe_unused]] routemq::Context &ctx,                          \
      [[maybe_unused]] redis::RedisManager &redis, [[maybe_unused]] Database &db,                      \
      [[maybe_unused]] const routemq::Handler &h, [[maybe_unused]] const redis::RedisConfig &config,   \
      [[maybe_unused]] asio::any_io_executor app_executor, [[maybe_unused]] const std::string &id,     \
      [[maybe_unused]] const std::string &v, [[maybe_unused]] const std::string &now,                  \
      [[maybe_unused]] const std::string &card_number, [[maybe_unused]] const std::string &body,       \
      [[maybe_unused]] const std::string &html, [[maybe_unused]] const std::string &etag,              \
      [[maybe_unused]] const std::vector<std::uint8_t> &bytes, [[maybe_unused]] const nlohmann::json &json, \
      [[maybe_unused]] const nlohmann::json &profile, [[maybe_unused]] const nlohmann::json &price,    \
      [[maybe_unused]] const nlohmann::json &user, [[maybe_unused]] const nlohmann::json &state
