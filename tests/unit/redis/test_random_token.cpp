// Tokens that guard locks and dedupe claims: 128 bits in hex, never repeated.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugins/redis/random_token.hpp"

using routemq::redis::random_token;

TEST_CASE("random tokens are 32 hex digits, distinct across threads, with every digit in use") {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& tokens : per_thread)
    threads.emplace_back([&tokens] {
      for (int i = 0; i < 5000; ++i) tokens.push_back(random_token());
    });
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  std::set<char> digits;
  for (const auto& tokens : per_thread)
    for (const auto& token : tokens) {
      REQUIRE(token.size() == 32);
      REQUIRE(token.find_first_not_of("0123456789abcdef") == std::string::npos);
      all.insert(token);
      digits.insert(token.begin(), token.end());
    }
  CHECK(all.size() == 20000);
  CHECK(digits.size() == 16);
}
