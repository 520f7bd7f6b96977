// Tokens that guard locks and dedupe claims: 128 bits in hex, never repeated.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugins/redis/hex.hpp"
#include "plugins/redis/random_token.hpp"
#include "plugins/redis/sha1_hex.hpp"

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

TEST_CASE("hex: one encoder for digests, tokens and binary keys, and SHA-1 of known inputs") {
  CHECK(routemq::redis::lower_hex(std::string("\0\x01\x7f\x80\xff", 5)) == "00017f80ff");
  CHECK(routemq::redis::lower_hex("").empty());
  CHECK(routemq::redis::sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(routemq::redis::sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
