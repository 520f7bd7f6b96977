#pragma once
// The one way our code includes Boost.Asio.
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>,
// which g++ 12 in C++20 mode rejects; including it first fixes that everywhere.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace routemq {
namespace asio = boost::asio;
template <class T = void>
using awaitable = boost::asio::awaitable<T>;
}  // namespace routemq
